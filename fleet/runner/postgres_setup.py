"""The scaled profile's PostgreSQL: Debian's server, a cluster of our own under the fleet's
data folder, on loopback, password-authenticated.

PostgreSQL refuses to run as root, so when the runner is root the server runs as the
`postgres` account Debian's package creates, and owns its data folder.
"""

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from fleet import topology as t
from fleet.paths import data_dir, run_dir
from fleet.provision.errors import ProvisionError

SERVER_ACCOUNT = "postgres"
INSTALL_HINT = "Install Debian's server: `apt-get install postgresql` (make provision does it)."


def bin_dir() -> Path | None:
    """The newest installed server's binaries (/usr/lib/postgresql/<major>/bin)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


def server_binary() -> Path:
    """Where the server is; Debian 12's path when none is installed (preparing says so)."""
    found = bin_dir()
    return found / "postgres" if found else Path("/usr/lib/postgresql/15/bin/postgres")


def data_path() -> Path:
    return data_dir() / "postgres"


def socket_dir() -> Path:
    return run_dir() / "postgres"


def as_server_account() -> tuple[str, ...]:
    """The command prefix that drops root to the server's account (nothing otherwise)."""
    if os.geteuid() != 0:
        return ()
    return ("setpriv", f"--reuid={SERVER_ACCOUNT}", f"--regid={SERVER_ACCOUNT}", "--init-groups")


def _own(path: Path) -> None:
    if os.geteuid() == 0:
        account = pwd.getpwnam(SERVER_ACCOUNT)
        os.chown(path, account.pw_uid, account.pw_gid)


SETTINGS = {
    "listen_addresses": f"'{t.LOOPBACK}'",
    # Every sidecar keeps a pool, and every orchestrator replica a read-model connection.
    "max_connections": "300",
    "shared_buffers": "128MB",
    # The ledger and the workflow histories are business records: durable commits.
    "fsync": "on",
    "synchronous_commit": "on",
    "log_min_duration_statement": "2000",
}


def prepare_postgres(
    password: str,
    data: Path | None = None,
    sockets: Path | None = None,
    port: int = t.POSTGRES_PORT,
) -> None:
    """Creates the cluster and the fleet's database once; refreshes its settings each start."""
    data = data or data_path()
    sockets = sockets or socket_dir()
    sockets.mkdir(parents=True, exist_ok=True)
    _own(sockets)
    if not (data / "PG_VERSION").exists():
        _initialise(data, password)
    conf = data / "postgresql.auto.conf"
    settings = {**SETTINGS, "port": str(port)}
    conf.write_text("".join(f"{key} = {value}\n" for key, value in settings.items()))
    (data / "pg_hba.conf").write_text(
        "# local sockets: the server account only; TCP on loopback: passwords\n"
        "local all all peer\n"
        f"host all all {t.LOOPBACK}/32 scram-sha-256\n"
    )
    for path in (conf, data / "pg_hba.conf"):
        _own(path)


def _initialise(data: Path, password: str) -> None:
    if bin_dir() is None:
        raise ProvisionError(f"no PostgreSQL server found. {INSTALL_HINT}")
    binaries = server_binary().parent
    shutil.rmtree(data, ignore_errors=True)  # a half-made cluster from an interrupted run
    data.mkdir(parents=True)
    data.chmod(0o700)
    _own(data)
    with tempfile.TemporaryDirectory() as scratch:
        pwfile = Path(scratch) / "pw"
        pwfile.write_text(password + "\n")
        _own(Path(scratch))
        _own(pwfile)
        _run(
            [
                *as_server_account(),
                str(binaries / "initdb"),
                f"--pgdata={data}",
                f"--username={t.POSTGRES_USER}",
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=peer",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            "initdb",
        )
    # Single-user mode creates the database before the server ever listens.
    _run(
        [
            *as_server_account(),
            str(binaries / "postgres"),
            "--single",
            "-D",
            str(data),
            "template1",
        ],
        "creating the fleet's database",
        stdin=f"CREATE DATABASE {t.POSTGRES_DB} OWNER {t.POSTGRES_USER};\n",
    )


def _run(argv: list[str], what: str, stdin: str | None = None) -> None:
    result = subprocess.run(argv, input=stdin, capture_output=True, text=True, cwd="/")
    if result.returncode != 0:
        raise ProvisionError(f"{what} failed:\n{result.stdout}\n{result.stderr}")


def connection_string(password: str) -> str:
    """The libpq keyword form Dapr's state.postgresql takes."""
    return (
        f"host={t.LOOPBACK} port={t.POSTGRES_PORT} user={t.POSTGRES_USER} "
        f"password={password} dbname={t.POSTGRES_DB} sslmode=disable connect_timeout=10"
    )


def url(password: str, port: int = t.POSTGRES_PORT) -> str:
    return (
        f"postgresql://{t.POSTGRES_USER}:{password}@{t.LOOPBACK}:{port}/"
        f"{t.POSTGRES_DB}?connect_timeout=10"
    )


def answers(password: str, port: int = t.POSTGRES_PORT) -> bool:
    """The server accepts our login and runs a query (its port opens before it is ready)."""
    import psycopg

    try:
        with psycopg.connect(url(password, port), connect_timeout=2) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True
