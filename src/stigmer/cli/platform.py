"""`stigmer server` and `stigmer worker`: running the platform's processes.

The platform's parts load when one of these commands runs, never for another command.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from stigmer.contract.names import QUEUE_KINDS

if TYPE_CHECKING:
    from stigmer.config import Settings
    from stigmer.local.supervisor import Component


def register(app: typer.Typer) -> None:
    app.command()(server)
    app.command()(worker)


ALLOW_PROCESS_HELP = (
    "A command definitions may start on these workers: MCP stdio servers, `run: shell` "
    "(/bin/sh: allowing it allows any command), `run: script` (its interpreter). Repeat for "
    "more; `*` allows any. Or STIGMER_ALLOW_PROCESSES, comma-separated [default: none]."
)
ALLOW_FILES_HELP = (
    "A directory whose files definitions may read on these workers (`file://` documents, "
    "script sources, the scripted agent's files). Repeat for more. Or STIGMER_ALLOW_FILES, "
    "comma-separated [default: none]."
)


def server(
    ctx: typer.Context,
    data_dir: Annotated[Path | None, typer.Option(help="State of the local platform.")] = None,
    host: Annotated[str | None, typer.Option(help="Interface the API binds to.")] = None,
    port: Annotated[int | None, typer.Option(help="API port [default: 7234].")] = None,
    temporal_port: Annotated[int | None, typer.Option(help="Embedded Temporal port.")] = None,
    temporal_ui_port: Annotated[int | None, typer.Option(help="Temporal UI port.")] = None,
    metrics_port: Annotated[int | None, typer.Option(help="Metrics port; 0 turns it off.")] = None,
    metrics_host: Annotated[
        str | None, typer.Option(help="Interface metrics bind to [default: 127.0.0.1].")
    ] = None,
    console_port: Annotated[
        int | None, typer.Option(help="Web console port [default: 8234]; 0 turns it off.")
    ] = None,
    temporal_ui_url: Annotated[
        str | None, typer.Option(help="Temporal UI the console links runs to.")
    ] = None,
    temporal_address: Annotated[
        str | None, typer.Option(help="Use this Temporal cluster instead of the embedded one.")
    ] = None,
    temporal_namespace: Annotated[str | None, typer.Option(help="Temporal namespace.")] = None,
    temporal_tls: Annotated[bool | None, typer.Option(help="TLS to Temporal.")] = None,
    temporal_api_key: Annotated[
        str | None, typer.Option(help="Temporal API key.", show_default=False)
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            help="Bearer token the API requires (16 characters or more); STIGMER_API_TOKEN "
            "or --token-file keep it out of ps.",
            envvar="STIGMER_API_TOKEN",
            show_default=False,
        ),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(
            help="A file holding the bearer token the API requires.",
            envvar="STIGMER_API_TOKEN_FILE",
        ),
    ] = None,
    tls_cert: Annotated[Path | None, typer.Option(help="PEM certificate for the API.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM key for the API.")] = None,
    database_url: Annotated[str | None, typer.Option(help="SQLAlchemy async URL.")] = None,
    allow_plaintext: Annotated[
        bool | None,
        typer.Option(
            help="Serve without TLS beyond loopback (trusted networks only).",
            envvar="STIGMER_ALLOW_PLAINTEXT",
        ),
    ] = None,
    workers: Annotated[bool, typer.Option(help="Run the workers of all three queues.")] = True,
    allow_process: Annotated[
        list[str] | None, typer.Option(help=ALLOW_PROCESS_HELP, show_default=False)
    ] = None,
    allow_files: Annotated[
        list[Path] | None, typer.Option(help=ALLOW_FILES_HELP, show_default=False)
    ] = None,
) -> None:
    """Run everything on this machine: Temporal (embedded), the API and the workers."""
    from pydantic import SecretStr

    from stigmer.cli.common import warn_of_a_token_on_the_command_line
    from stigmer.config import load_settings
    from stigmer.console.server import ConsoleServer
    from stigmer.credentials import worker_token
    from stigmer.local.supervisor import serve
    from stigmer.observability.endpoint import MetricsEndpoint
    from stigmer.observability.logs import configure_logging
    from stigmer.server.app import AccessError, ApiServer
    from stigmer.workers import Workers

    warn_of_a_token_on_the_command_line(ctx)
    settings = load_settings(
        data_dir=data_dir,
        host=host,
        port=port,
        temporal_port=temporal_port,
        temporal_ui_port=temporal_ui_port,
        metrics_port=metrics_port,
        metrics_host=metrics_host,
        console_port=console_port,
        temporal_ui_url=temporal_ui_url,
        temporal_address=temporal_address,
        temporal_namespace=temporal_namespace,
        temporal_tls=temporal_tls,
        temporal_api_key=temporal_api_key,
        api_token=token,
        api_token_file=token_file,
        tls_cert=tls_cert,
        tls_key=tls_key,
        database_url=database_url,
        allow_plaintext=allow_plaintext,
        allow_processes=allow_process or None,  # none given: the variable's, if set
        allow_files=allow_files or None,
    )
    configure_logging(settings)
    os.umask(0o077)  # every file the platform writes (database, WAL, logs) is owner-only

    def components(resolved: Settings) -> list[Component]:
        address = f"127.0.0.1:{resolved.port}"
        # The console is a client of the API beside it: it never holds the worker credential.
        as_client = {"address": address, "worker_token": None, "worker_token_file": None}
        console = ConsoleServer(resolved.model_copy(update=as_client))
        # The API and the workers in this process share the worker credential, made on
        # the first start; the workers reach the API they run beside.
        credential = SecretStr(worker_token(resolved, create=True))
        resolved = resolved.model_copy(update={"worker_token": credential})
        local = resolved.model_copy(update={"address": address})
        parts: list[Component] = [MetricsEndpoint(resolved), ApiServer(resolved), console]
        if workers:
            parts.append(Workers(local, list(QUEUE_KINDS)))
        return parts

    try:
        ApiServer(settings)  # refuse an unprotected public bind before starting anything
    except AccessError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    leave(serve(settings, components=components))


def worker(
    queue: Annotated[
        list[str],
        typer.Option(help=f"Queue(s) to serve: {', '.join(QUEUE_KINDS)}.", show_default=False),
    ],
    temporal_address: Annotated[str | None, typer.Option(help="Temporal cluster.")] = None,
    temporal_namespace: Annotated[str | None, typer.Option(help="Temporal namespace.")] = None,
    temporal_tls: Annotated[bool | None, typer.Option(help="TLS to Temporal.")] = None,
    temporal_api_key: Annotated[str | None, typer.Option(show_default=False)] = None,
    address: Annotated[
        str | None,
        typer.Option(
            help="Where the API listens: host:port, or several separated by commas (used in "
            "turn, skipping any that is down).",
            envvar="STIGMER_ADDRESS",
        ),
    ] = None,
    worker_token_file: Annotated[
        Path | None,
        typer.Option(
            help="The worker credential's file [default: DATA_DIR/worker-token]; "
            "or set STIGMER_WORKER_TOKEN.",
            envvar="STIGMER_WORKER_TOKEN_FILE",
        ),
    ] = None,
    payload_keys_file: Annotated[
        Path | None,
        typer.Option(
            help="The payload keys' file [default: DATA_DIR/payload-keys]; "
            "or set STIGMER_PAYLOAD_KEYS.",
            envvar="STIGMER_PAYLOAD_KEYS_FILE",
        ),
    ] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Metrics port [default: 9464]; 0 turns it off.")
    ] = None,
    metrics_host: Annotated[
        str | None, typer.Option(help="Interface metrics bind to [default: 127.0.0.1].")
    ] = None,
    allow_plaintext: Annotated[
        bool | None,
        typer.Option(
            help="Reach an API beyond loopback without TLS (trusted networks only).",
            envvar="STIGMER_ALLOW_PLAINTEXT",
        ),
    ] = None,
    worker_deployment: Annotated[
        str | None, typer.Option(help="Temporal Worker Deployment name (with --worker-build-id).")
    ] = None,
    worker_build_id: Annotated[
        str | None, typer.Option(help="This release's build id in the worker deployment.")
    ] = None,
    worker_versioning: Annotated[
        str | None,
        typer.Option(help="pinned (default) or auto-upgrade: where running workflows go."),
    ] = None,
    allow_process: Annotated[
        list[str] | None, typer.Option(help=ALLOW_PROCESS_HELP, show_default=False)
    ] = None,
    allow_files: Annotated[
        list[Path] | None, typer.Option(help=ALLOW_FILES_HELP, show_default=False)
    ] = None,
) -> None:
    """Run the workers of some queues alone, to scale them out on more machines."""
    from stigmer.config import load_settings
    from stigmer.local.supervisor import serve
    from stigmer.observability.endpoint import MetricsEndpoint
    from stigmer.observability.logs import configure_logging
    from stigmer.workers import BEHAVIORS, VersioningError, Workers, deployment

    unknown = sorted(set(queue) - set(QUEUE_KINDS))
    if unknown:
        typer.echo(
            f"error: unknown queue(s) {unknown}; expected {', '.join(QUEUE_KINDS)}", err=True
        )
        raise typer.Exit(2)
    if worker_versioning is not None and worker_versioning not in BEHAVIORS:
        typer.echo(
            f"error: --worker-versioning is {worker_versioning!r}; expected one of "
            f"{', '.join(BEHAVIORS)}",
            err=True,
        )
        raise typer.Exit(2)
    settings = load_settings(
        temporal_address=temporal_address or load_settings().temporal_target,
        temporal_namespace=temporal_namespace,
        temporal_tls=temporal_tls,
        temporal_api_key=temporal_api_key,
        address=address,
        worker_token_file=worker_token_file,
        payload_keys_file=payload_keys_file,
        metrics_port=metrics_port,
        metrics_host=metrics_host,
        allow_plaintext=allow_plaintext,
        worker_deployment=worker_deployment,
        worker_build_id=worker_build_id,
        worker_versioning=worker_versioning,
        allow_processes=allow_process or None,
        allow_files=allow_files or None,
    )
    try:
        deployment(settings)
    except VersioningError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    configure_logging(settings)
    leave(
        serve(
            settings,
            components=lambda s: [MetricsEndpoint(s), Workers(s, queue)],
            owns_data_dir=False,
        )
    )


def leave(code: int) -> NoReturn:
    """Exit at once with `code`, once everything has stopped.

    Interpreter finalization can abort the process (SIGABRT) while the Temporal SDK's
    native threads still release Python objects, turning a clean stop into a crash; with
    every component stopped and the streams flushed there is nothing left to finalize.
    """
    import logging

    from stigmer.observability.tracing import shutdown_tracing

    shutdown_tracing()
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)
