"""A throwaway PostgreSQL server for tests and benchmarks: initdb + pg_ctl in a temporary directory.

The server listens on 127.0.0.1 only, on a free port, and is removed with its directory by
:meth:`PostgresCluster.stop`. It trusts every connection from 127.0.0.1 (any local user may log in
as its superuser): fine for a private test machine, not for a shared host. PostgreSQL refuses to run as root, so under
root the server runs as the ``postgres`` user the Debian package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import urllib.parse
import uuid

__all__ = ["SUPERUSER", "ClusterUnavailable", "PostgresCluster", "find_bindir", "free_port"]

SUPERUSER = "ctxlog"


class ClusterUnavailable(RuntimeError):
    """No PostgreSQL server binaries here, or the throwaway server would not start (a fact about the
    machine, not a ledger error, hence not a CtxlogError)."""


def find_bindir() -> str | None:
    """The directory holding ``initdb`` and ``pg_ctl``: ``$PG_BINDIR``, the PATH, or Debian's newest."""
    explicit = os.environ.get("PG_BINDIR")
    if explicit:
        return explicit
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return os.path.dirname(os.path.realpath(found))
    candidates = glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")
    candidates.sort(key=lambda p: int(p.split("/")[-3]) if p.split("/")[-3].isdigit() else 0)
    return os.path.dirname(candidates[-1]) if candidates else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresCluster:
    """One server for the life of a test session or a benchmark run.

    ``durable=False`` turns fsync off: right for tests (the server itself is never killed), wrong
    for benchmarks, which keep PostgreSQL's defaults.
    """

    def __init__(self, *, durable: bool = True, bindir: str | None = None) -> None:
        self.bindir = bindir or find_bindir()
        if self.bindir is None or not os.path.exists(os.path.join(self.bindir, "initdb")):
            raise ClusterUnavailable(
                "PostgreSQL server binaries not found (no initdb/pg_ctl on PATH or under /usr/lib/postgresql); "
                "install Debian's postgresql package or set PG_BINDIR"
            )
        self.durable = durable
        self.port = 0
        self.root = tempfile.mkdtemp(prefix="ctxlog-pg-")
        self.data = os.path.join(self.root, "data")
        self._user: str | None = None
        if os.geteuid() == 0:
            self._user = "postgres"
            try:
                shutil.chown(self.root, user=self._user)
            except LookupError:
                shutil.rmtree(self.root, ignore_errors=True)
                raise ClusterUnavailable("running as root and no 'postgres' user to run the server as") from None

    def _run(self, *args: str) -> None:
        as_user: dict[str, object] = {}
        if self._user is not None:
            as_user = {"user": self._user, "group": pwd.getpwnam(self._user).pw_gid, "extra_groups": []}
        done = subprocess.run(
            [os.path.join(self.bindir or "", args[0]), *args[1:]],
            capture_output=True,
            text=True,
            cwd=self.root,
            **as_user,  # type: ignore[call-overload]
        )
        if done.returncode != 0:
            raise ClusterUnavailable(f"{args[0]} failed: {(done.stderr or done.stdout).strip()[-800:]}")

    def start(self) -> PostgresCluster:
        """Create the cluster and start it (a few seconds); returns self. On failure nothing is left."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> PostgresCluster:
        self._run("initdb", "-D", self.data, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C")
        settings = [
            "listen_addresses=127.0.0.1",
            f"unix_socket_directories={self.root}",
            "max_connections=200",
            "shared_buffers=128MB",
        ]
        if not self.durable:
            settings += ["fsync=off", "full_page_writes=off"]
        for attempt in range(3):
            self.port = free_port()
            options = " ".join(f"-c {s}" for s in [f"port={self.port}", *settings])
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    self.data,
                    "-l",
                    os.path.join(self.root, "server.log"),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                )
                return self
            except ClusterUnavailable:
                if attempt == 2:
                    raise
        return self

    def url(self, database: str = "postgres", schema: str | None = None) -> str:
        """A connection URL; with ``schema``, one whose ledger tables live in that schema."""
        url = f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"
        if schema is not None:
            url += "?options=" + urllib.parse.quote(f"-csearch_path={schema}")
        return url

    def new_schema(self, database: str = "postgres") -> str:
        """A URL for a new, empty schema: a fresh ledger location, cheaper than a database."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return self.url(database, name)

    def drop_schema(self, url: str) -> None:
        """Remove the schema of a URL made by :meth:`new_schema`, with its ledger."""
        import psycopg
        from psycopg import sql

        schema = urllib.parse.unquote(url).rsplit("search_path=", 1)[-1]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))

    def stop(self) -> None:
        """Stop the server and remove its directory."""
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            try:
                self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
            except ClusterUnavailable:
                pass
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
