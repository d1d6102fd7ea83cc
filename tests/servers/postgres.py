"""A throwaway PostgreSQL cluster on a loopback port (Debian `postgresql`).

initdb into a temporary folder, start with pg_ctl, create databases on demand, stop and
delete at the end. PostgreSQL refuses to run as root, so as root the server runs as the
`postgres` system user that the Debian package creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from tests.servers import free_port, require, wait_for_port


def find_pg_bin() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


class PostgresServer:
    def __init__(self, bin_dir: Path, root: Path, port: int, user: str | None) -> None:
        self.bin_dir, self.root, self.port, self.user = bin_dir, root, port, user
        self.data = root / "data"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "foibot",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-w",
            "-t",
            "60",
            "start",
            "-o",
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off",
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        with suppress(subprocess.CalledProcessError):
            self._run(
                str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"
            )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://foibot@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=foibot dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = find_pg_bin()
    require(bin_dir is not None, "PostgreSQL is not installed (Debian package `postgresql`)")
    assert bin_dir is not None
    user = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="foibot-pg-"))
    if user:
        shutil.chown(root, user=user)
        root.chmod(0o700)
    server = PostgresServer(bin_dir, root, free_port(), user)
    try:
        server.start()
    except (subprocess.CalledProcessError, TimeoutError) as exc:
        log = (root / "log").read_text(errors="replace") if (root / "log").exists() else ""
        stderr = getattr(exc, "stderr", "") or ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {exc}\n{stderr}\n{log}") from exc
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
