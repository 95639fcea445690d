"""Commands around the HTTP API: `serve`, `token create|list|revoke`; mounts `report` (`erpcore.cli_report`)."""

from __future__ import annotations

import datetime as dt
import errno
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from opskit import output

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from erpcore.config import Settings

token_app = typer.Typer(help="API bearer tokens (stored hashed).\n\nExample: erpops token create --role viewer "
                             "--name grafana", no_args_is_help=True)


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default: api.host).")] = None,
    port: Annotated[int | None, typer.Option(min=0, max=65535,
                                             help="Port to listen on, 0 for any free one (default: api.port).")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Server processes (default: 2 on PostgreSQL, 1 on SQLite, which has one writer anyway).")] = None,
    access_log: Annotated[bool, typer.Option(help="Log every request (off for load tests).")] = True,
    tls_cert: Annotated[Path | None, typer.Option(help="PEM certificate: serve HTTPS (with --tls-key; default: "
                                                       "api.tls_certfile).")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key of --tls-cert (default: api.tls_keyfile).")
                       ] = None,
) -> None:
    """Apply migrations, then run the HTTP API with uvicorn; the banner shows once the port is bound.

    A port in use exits 4 (unavailable: the same command works once it is free); a host that is not this
    machine's, or a certificate without its key (or unreadable), exits 2. With a certificate and its key the
    API speaks HTTPS only.

    Example: erpops serve --port 8443 --tls-cert server.pem --tls-key server.key
    """
    from erpcore.config import load_settings

    settings = load_settings()
    if tls_cert is not None or tls_key is not None:
        settings = settings.model_copy(update={"api": settings.api.model_copy(update={
            "tls_certfile": tls_cert or settings.api.tls_certfile, "tls_keyfile": tls_key or settings.api.tls_keyfile})})
    tls_files(settings)  # a bad certificate is a usage error before the port is taken
    host = host or settings.api.host
    sock = listening_socket(host, settings.api.port if port is None else port)  # before touching the database
    serve_on(sock, settings, workers, access_log)


def serve_on(sock: socket.socket, settings: Settings, workers: int | None = None, access_log: bool = True) -> None:
    """Migrate the configured database if needed, show the banner, and serve the API on the bound `sock`."""
    from erpcore.db import is_sqlite, make_engine
    from erpcore.migrate import current, head, upgrade

    try:
        engine = make_engine(settings=settings)
        workers = workers or (1 if is_sqlite(engine) else 2)
        if current(engine) != head():  # alembic cannot take a URL with `%` (escaped options): skip when at head
            upgrade(engine)
        host, port = sock.getsockname()[:2]
        tls = tls_files(settings)
        output.stderr().print(f"erpops API on [bold]{'https' if tls else 'http'}://{_netloc(host, port)}/api/v1/docs[/]"
                              f" ({workers} worker(s))")
        _run(engine, sock, workers, access_log, tls)
    finally:
        sock.close()


def tls_files(settings: Settings) -> tuple[str, str] | None:
    """The certificate and key to serve HTTPS with (None: plain HTTP), checked: both given, both loadable."""
    import ssl

    from opskit.errors import UsageError

    cert, key = settings.api.tls_certfile, settings.api.tls_keyfile
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise UsageError("TLS needs both a certificate and its key (--tls-cert and --tls-key)")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"cannot use the certificate {cert} with the key {key}: {exc}") from None
    return str(cert), str(key)


def _run(engine: Engine, sock: socket.socket, workers: int, access_log: bool,
         tls: tuple[str, str] | None = None) -> None:
    import uvicorn

    from erpcore.api.app import create_app, serving

    certfile, keyfile = tls or (None, None)
    if workers == 1:
        config = uvicorn.Config(serving(create_app(engine)), log_level="info", access_log=access_log,
                                ssl_certfile=certfile, ssl_keyfile=keyfile)
        uvicorn.Server(config).run(sockets=[sock])
        return
    engine.dispose()  # each worker process builds its own engine from the same settings
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config("erpcore.api.app:create_app_from_settings", factory=True, workers=workers,
                            log_level="info", access_log=access_log, ssl_certfile=certfile, ssl_keyfile=keyfile)
    Multiprocess(config, sockets=[sock]).run()


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound and listening on host:port, or one `error:` line saying why not.

    The socket is made with its protocol named: uvicorn binds `socket.socket(family)`, whose proto is 0, and
    asyncio turns Nagle off only on sockets whose proto is TCP: every response (headers, then body) then
    waited for the client's delayed ACK, 40 ms. It is inheritable for `--workers N`.
    """
    from opskit.errors import Unavailable, UsageError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        where = _netloc(host, port)
        if exc.errno == errno.EADDRINUSE:
            raise Unavailable(f"cannot listen on {where}: the port is in use by another process; stop it or "
                              "choose another with --port") from None
        raise UsageError(f"cannot listen on {where}: {exc.strerror or exc}; choose another --host or --port") from None
    sock.set_inheritable(True)
    return sock


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="A built-in role (sales_clerk, sales_manager, buyer, warehouse, ap_clerk, "
                                           "ar_clerk, controller, hr, auditor, admin, ...) or a custom one "
                                           "(`erpops roles list`).")],
    name: Annotated[str, typer.Option(help="Who or what uses the token (shown in audit trails).")],
    ttl: Annotated[str | None, typer.Option(help="Lifetime: 90d, 12h, 30m (default: access.token_ttl_days).")] = None,
) -> None:
    """Create a token and print it once; only its sha256 is stored, and it expires after --ttl.

    Example: erpops token create --role sales_clerk --name shop-frontend --ttl 30d
    """
    from erpcore.access import cli_actor, create_token
    from erpcore.migrate import open_database
    from erpcore.services.bootstrap import bootstrap

    erp = bootstrap(open_database())
    lifetime = parse_lifetime(ttl) if ttl else dt.timedelta(days=erp.settings.access.token_ttl_days)
    token = create_token(erp, role, name, cli_actor(), lifetime)
    output.stderr().print(f"token for [bold]{name}[/] ({role}, expires in {lifetime}); it is not shown again:")
    typer.echo(token)


def parse_lifetime(text: str) -> dt.timedelta:
    """`90d`, `12h`, `30m` or `45s` as a duration; anything else is a usage error."""
    from opskit.errors import UsageError

    units = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    number, unit = text[:-1], text[-1:].lower()
    if unit not in units or not number.isdigit() or int(number) <= 0 or int(number) > 3660 * 86400:
        raise UsageError(f"--ttl {text!r}: give a positive number and a unit, e.g. 90d, 12h, 30m")
    return dt.timedelta(**{units[unit]: int(number)})


@token_app.command("list")
def token_list(as_json: bool = output.JsonFlag) -> None:
    """List tokens (names and roles, never the tokens).

    Example: erpops token list --json
    """
    from erpcore.access import list_tokens
    from erpcore.migrate import open_database
    from erpcore.services.bootstrap import bootstrap

    rows = list_tokens(bootstrap(open_database()))
    if as_json:
        output.print_json(rows)
        return
    columns = ["id", "name", "role", "created_at", "expires_at", "revoked_at"]
    output.stdout().print(output.table("API tokens", columns, [[r[c] for c in columns] for r in rows]))


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's id (see `erpops token list`).")]) -> None:
    """Revoke a token; requests carrying it get 401 from now on.

    Example: erpops token revoke 3
    """
    from erpcore.access import cli_actor, revoke_token
    from erpcore.migrate import open_database
    from erpcore.services.bootstrap import bootstrap

    revoke_token(bootstrap(open_database()), token_id, cli_actor())
    output.stderr().print(f"token {token_id} revoked")


def register(app: typer.Typer) -> None:
    """Mount `serve`, `token` and `report` on the root app."""
    from erpcore.cli_report import report_app

    app.command("serve")(serve)
    app.add_typer(token_app, name="token")
    app.add_typer(report_app, name="report")
