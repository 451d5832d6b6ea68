"""Project templates: packaged folders under ``mlops/templates/`` rendered into a new project.

Text files may use ``${project_id}``; it is replaced on copy (``string.Template``
with ``safe_substitute``, so other ``$`` signs are left alone). Without a
template a minimal project is written: a commented config and empty folders.
"""

from __future__ import annotations

import shutil
import string
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from mlops.config.schema import CONFIG_RELATIVE_PATH

TEXT_SUFFIXES = frozenset({".yaml", ".yml", ".py", ".md", ".txt", ".toml", ".cfg", ".json"})
SKIPPED = frozenset({"__pycache__", "__init__.py"})

MINIMAL_CONFIG = """\
# Project ${project_id}. Every key is documented in the mlops README.
reproducibility:
  random_seed: 42
  experiment_tracking:
    backend: local          # local | mlflow | noop
environment:
  system: {}                # or venv: {...}, conda: {...}, pyenv: {...}
model:
  name: ${project_id}
  framework: custom
  parameters:
    # A parameter; for one run: mlops run ${project_id} --set model.parameters.greeting=hi
    greeting: hello
    pipeline:
      # One line per edge, upstream first: "load train" makes train take load's result.
      # The processes are the @process functions in src/ (an example is there).
      process_adjlist: |
        hello
reporting:
  charts: []
"""

#: The minimal project's one process, so that a new project runs as created.
MINIMAL_PIPELINE = '''\
"""The processes of ${project_id}: replace the example with your own.

A process is a function marked @process. Its arguments are filled by name:
an upstream process's result, or a parameter of the config (model.parameters).
Its result is cached: a rerun with the same code and inputs reuses it.
"""

from mlops.engine.step_system import process


@process
def hello(greeting):
    return f"{greeting} from ${project_id}"
'''


def _templates_root() -> Path:
    return Path(str(resources.files("mlops.templates")))


def template_names() -> list[str]:
    """Installed templates, by folder name."""
    root = _templates_root()
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(("_", ".")) and p.name not in SKIPPED
    )


def render_template(name: str | None, destination: Path, variables: Mapping[str, str]) -> None:
    """Write template ``name`` (None: the minimal project) into the new folder ``destination``."""
    destination.mkdir(parents=True)
    if name is None:
        for folder in ("src", "data"):
            (destination / folder).mkdir()
        config = destination / CONFIG_RELATIVE_PATH
        config.parent.mkdir(parents=True)
        config.write_text(string.Template(MINIMAL_CONFIG).safe_substitute(variables), "utf-8")
        pipeline = destination / "src" / "pipeline.py"
        pipeline.write_text(string.Template(MINIMAL_PIPELINE).safe_substitute(variables), "utf-8")
        return
    source = _templates_root() / name
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if any(part in SKIPPED or part.startswith(".") for part in relative.parts):
            continue
        target = destination / relative
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif path.suffix in TEXT_SUFFIXES:
            target.parent.mkdir(parents=True, exist_ok=True)
            text = string.Template(path.read_text("utf-8")).safe_substitute(variables)
            target.write_text(text, "utf-8")
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
