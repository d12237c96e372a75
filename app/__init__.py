"""Fieldlens Flet app: the tablet-first UI for technicians and supervisors.

It calls `assistant.service.Fieldlens` only and holds no business logic.
"""
