"""serve: the HTTP API (OpenAI-compatible under /v1, Cairn's own under /api)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cairn.cli.common import KbOption, err_console, errors_as_messages, fail

SERVER_EXTRA_HINT = "reinstall Cairn: pip install -e . (fastapi, uvicorn, python-multipart)"


def register(app: typer.Typer) -> None:
    app.command()(serve)


def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on; other than loopback needs --api-key.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    kb: KbOption = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            envvar="CAIRN_API_KEY",
            help="Require 'Authorization: Bearer KEY' on every endpoint but /api/health.",
            show_default=False,
        ),
    ] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option("--cors-origin", help="Allow browser pages from this origin (repeatable)."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Where uploads are kept (default: the knowledge base's folder)."),
    ] = None,
    max_body_mb: Annotated[float, typer.Option(help="Largest request body (MB).")] = 100.0,
    max_upload_mb: Annotated[float, typer.Option(help="Largest uploaded file (MB).")] = 100.0,
    stt: Annotated[
        str | None, typer.Option(help="Speech-to-text model (default: packaged Whisper base).")
    ] = None,
    tts: Annotated[
        str | None, typer.Option(help="Speech engine: piper, espeak-ng, festival (default: best).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve the knowledge base over HTTP (API docs at /docs)."""
    try:
        import uvicorn

        from cairn.server.app import create_app
    except ImportError as err:
        fail(f"serving needs {err.name}: {SERVER_EXTRA_HINT}")
    from cairn.server.settings import ServerSettings, check_bind

    with errors_as_messages():
        settings = ServerSettings(
            host=host,
            port=port,
            kb=kb,
            api_key=api_key or None,
            data_dir=data_dir,
            max_body_bytes=int(max_body_mb * 1_000_000),
            max_upload_bytes=int(max_upload_mb * 1_000_000),
            cors_origins=tuple(cors_origin or ()),
            stt=stt,
            tts=tts,
        )
        check_bind(settings)
        app = create_app(settings)
    shown = f"[{host}]" if ":" in host else host
    err_console.print(
        f"Cairn on http://{shown}:{port} (docs at /docs)"
        + ("; API key required" if settings.api_key else ""),
        highlight=False,
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level.lower())
