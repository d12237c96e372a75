"""The central fleet server: tablets push their session events and photos, pull reviews back and
mirror the manual feed; supervisors list, read, review and export the fleet's sessions.

Public API: `FleetStore` (the server's storage), `create_app` (the Starlette application),
`TokenStore` roles, and `serve()` (uvicorn). SQLite under the data folder by default, PostgreSQL
(psycopg 3) for a fleet.
"""

from assistant.server.store import FleetStore, open_fleet_store

__all__ = ["FleetStore", "open_fleet_store"]
