"""``mlops serve``: the web app under uvicorn, on loopback unless a token guards it."""

from __future__ import annotations

import os
from collections.abc import Mapping

from mlops.errors import ConfigError
from mlops.runtime.workspace import Workspace
from mlops.web.hosts import is_loopback

TOKEN_VARIABLE = "MLOPS_UI_TOKEN"  # noqa: S105 - the variable's name, not a secret
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def settle_token(host: str, token: str | None, environ: Mapping[str, str]) -> str | None:
    """The token to require: given, else ``$MLOPS_UI_TOKEN``; refused without one off loopback."""
    chosen = token or environ.get(TOKEN_VARIABLE) or None
    if chosen is not None and len(chosen) < 8:
        raise ConfigError("--token: use at least 8 characters")
    if chosen is None and not is_loopback(host):
        raise ConfigError(
            f"--host {host}: serving beyond this machine needs a token",
            hint=f"pass --token or set {TOKEN_VARIABLE}; or keep the default --host {DEFAULT_HOST}",
        )
    return chosen


def serve(
    workspace: Workspace,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    token: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Run the server until interrupted."""
    import uvicorn

    from mlops.web.server import create_app

    required = settle_token(host, token, os.environ if environ is None else environ)
    app = create_app(workspace, token=required)
    uvicorn.run(app, host=host, port=port, log_level="warning")


__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "TOKEN_VARIABLE", "is_loopback", "serve", "settle_token"]
