"""Which channels a conda environment is built from.

In order: ``$MLOPS_CONDA_CHANNEL`` (one channel, or several separated by commas:
a mirror or a local channel that every conda environment of the workspace is
built from instead of the ones its config names), the config's ``channels:``,
the channels of its ``lockfile`` or ``environment_file``, then ``conda-forge``.
The channels are part of the environment's spec: another channel is another
environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops.errors import ConfigError, EnvSetupError

CHANNEL_VARIABLE = "MLOPS_CONDA_CHANNEL"
DEFAULT_CHANNELS = ("conda-forge",)


def resolve_channels(
    spec: Mapping[str, Any], project_dir: Path, environ: Mapping[str, str]
) -> list[str]:
    """The channels ``environment.conda`` (``spec``) is built from (see the module)."""
    given = [c.strip() for c in environ.get(CHANNEL_VARIABLE, "").split(",") if c.strip()]
    if given:
        return given
    if spec.get("channels") is not None:
        return [str(c) for c in spec["channels"]]
    if spec.get("lockfile"):
        document = read_conda_document(
            project_dir / str(spec["lockfile"]), "environment.conda.lockfile"
        )
        metadata = document.get("metadata")
        listed = metadata.get("channels") if isinstance(metadata, dict) else None
        found = [_channel_url(c) for c in listed or []]
        if found:
            return [c for c in found if c]
    elif spec.get("environment_file"):
        document = read_conda_document(
            project_dir / str(spec["environment_file"]), "environment.conda.environment_file"
        )
        found = [str(c) for c in document.get("channels") or []]
        if found:
            return found
    return list(DEFAULT_CHANNELS)


def _channel_url(entry: Any) -> str:
    # conda-lock writes each channel as {url: conda-forge, used_env_vars: []}.
    return str(entry.get("url") or "") if isinstance(entry, dict) else str(entry)


def read_conda_document(path: Path, key: str) -> dict[str, Any]:
    """An ``environment.yml`` or conda-lock file, as plain data.

    Read by the config reader, within its bounds: it is the user's file too.
    """
    from mlops.config.yaml_files import plain_data, read_yaml_file

    try:
        document = plain_data(read_yaml_file(path, f"{key}: {path}"))
    except FileNotFoundError as exc:
        raise EnvSetupError(f"{key}: {path} does not exist") from exc
    except ConfigError as exc:
        raise EnvSetupError(exc.message, hint=exc.hint) from exc
    if not isinstance(document, dict):
        raise EnvSetupError(f"{path}: expected channels: and dependencies:")
    return document


__all__ = ["CHANNEL_VARIABLE", "DEFAULT_CHANNELS", "read_conda_document", "resolve_channels"]
