"""A throw-away PostgreSQL server for tests and benchmarks: Debian's binaries, a fresh cluster in a
temporary folder, listening on a free loopback port and a private unix socket.

PostgreSQL refuses to run as root; when we are root (CI is) the cluster is created and started as
the `postgres` system user through `runuser`, in a folder that user owns.
"""

from __future__ import annotations

import atexit
import glob
import os
import signal
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path


def pg_bin_dir() -> Path | None:
    """The newest installed PostgreSQL bin folder with initdb and pg_ctl, or None."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
                        if Path(p).parent.name.isdigit() else 0)
    for path in reversed(candidates):
        if (Path(path) / "initdb").exists() and (Path(path) / "pg_ctl").exists():
            return Path(path)
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    """initdb + pg_ctl start/stop; `url(db)` gives a SQLAlchemy URL for a database in it."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.as_root = os.geteuid() == 0
        self.base = Path(tempfile.mkdtemp(prefix="fieldlens-pg-"))
        self.data = self.base / "data"
        self.socket_dir = self.base / "sock"
        self.port = free_port()
        self.user = "postgres" if self.as_root else os.environ.get("USER") or "postgres"
        self.socket_dir.mkdir()
        if self.as_root:
            shutil.chown(self.base, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
            os.chmod(self.base, 0o755)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120, cwd=self.base)

    def start(self) -> "PostgresCluster":
        atexit.register(self.stop)  # also when the test run is interrupted
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", self.user, "-E", "UTF8",
                  "--no-sync", "--locale=C")
        options = (f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=on "
                   "-c max_connections=200 -c shared_buffers=64MB")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.base / "log.txt"), "-w",
                  "-t", "60", "start")
        return self

    def stop(self) -> None:
        if not self.base.exists():
            return
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        except (OSError, subprocess.SubprocessError):
            pid_file = self.data / "postmaster.pid"
            if pid_file.exists():  # pg_ctl itself failed: end the postmaster we started, by its pid
                try:
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
                except (OSError, ValueError, IndexError):
                    pass
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def create_database(self, name: str | None = None) -> str:
        """Create a fresh database; returns its URL (psycopg 3, over TCP on loopback)."""
        name = name or "t_" + uuid.uuid4().hex[:12]
        self._run("createdb", "-h", str(self.socket_dir), "-p", str(self.port), "-U", self.user, name)
        return self.url(name)

    def url(self, db: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{db}"
