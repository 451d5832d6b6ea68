"""Environment builds, measured side by side in one run.

(a) Creating a new environment for the sklearn template's requirements
    (scikit-learn, matplotlib) as ``mlops run`` builds it, mlops itself included,
    through VenvManager: uv against the standard library's venv + pip, and
    against ``uv venv`` + ``uv pip install`` of the requirements alone, typed by
    hand (target: mlops within 3x of that). Each tool's download cache is warmed
    by one untimed build first, so the table compares installing, not the
    network (``--cold-cache`` adds builds with empty caches, downloads included).
    Bytecode is compiled at install only under ``PYTHONDONTWRITEBYTECODE``
    (a row each), and the first import of the libraries in the new environment
    shows what compiling at import costs the first run instead.
(b) ``ensure()`` of an environment that exists: a new manager each time (the
    spec is resolved and hashed, the manifest read), as every ``mlops run`` does.

Run by ``nox -s bench``; prints markdown tables. ``--quick`` repeats less.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from _timing import median_seconds
from mlops.environment.factory import create_manager
from mlops.environment.setup_env import runtime_requirements

TEMPLATE_CONFIG = Path(__file__).resolve().parents[1] / "src/mlops/templates/sklearn/configs"


def template_requirements() -> list[str]:
    """The requirements the sklearn template's config lists (read, not copied)."""
    from ruamel.yaml import YAML

    text = (TEMPLATE_CONFIG / "project_config.yaml").read_text(encoding="utf-8")
    config = YAML(typ="safe").load(text.replace("${project_id}", "bench"))
    return list(config["environment"]["venv"]["requirements"])


#: What the first run in a new environment imports of the template's libraries.
FIRST_IMPORT = "import sklearn.ensemble, matplotlib.pyplot"


def build_seconds(
    backend: str,
    requirements: list[str],
    root: Path,
    env: dict[str, str],
    first_import: list[float] | None = None,
) -> float:
    """A new environment as ``mlops run`` builds it: the requirements and mlops itself."""
    manager = create_manager(
        "venv",
        {"requirements": requirements, "backend": backend},
        project_dir=root,
        envs_dir=root / f"envs-{backend}-{time.monotonic_ns()}",
        environ=env,
        runtime=runtime_requirements(),
    )
    start = time.perf_counter()
    environment = manager.ensure()
    elapsed = time.perf_counter() - start
    assert environment.created
    assert environment.tool == ("uv" if backend == "uv" else "pip")
    if first_import is not None:
        python = str(environment.python_path)
        start = time.perf_counter()
        subprocess.run([python, "-c", FIRST_IMPORT], env=env, check=True)
        first_import.append(time.perf_counter() - start)
    manager.remove()
    return elapsed


def by_hand_seconds(requirements: list[str], root: Path, env: dict[str, str]) -> float:
    """``uv venv`` and ``uv pip install`` of ``requirements``, as a user would type them."""
    uv = shutil.which("uv", path=env.get("PATH"))
    assert uv is not None
    target = root / f"by-hand-{time.monotonic_ns()}"
    start = time.perf_counter()
    subprocess.run(
        [uv, "venv", "--quiet", "--python", sys.executable, str(target)], env=env, check=True
    )
    subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(target / "bin" / "python"),
            *requirements,
        ],
        env=env,
        check=True,
    )
    elapsed = time.perf_counter() - start
    shutil.rmtree(target)
    return elapsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one timed build per tool")
    parser.add_argument("--cold-cache", action="store_true", help="also build with empty caches")
    args = parser.parse_args(argv)
    if shutil.which("uv") is None:
        print("uv is not on PATH: nothing to compare")
        return 1
    requirements = template_requirements()
    repeat = 1 if args.quick else 3
    print(f"## Environments ({os.cpu_count()} cores, Python {sys.version.split()[0]})\n")
    with tempfile.TemporaryDirectory(prefix="mlops-env-bench-") as scratch:
        root = Path(scratch)
        # Whether bytecode is compiled at install follows this variable: the rows set it.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        rows = [
            "| build | mlops, uv | mlops, venv + pip | uv by hand | mlops (uv) / by hand |",
            "|---|---:|---:|---:|---:|",
        ]
        for backend in ("uv", "venv"):
            build_seconds(backend, requirements, root, env)  # warm this tool's cache
        uv: list[float] = []
        pip: list[float] = []
        hand: list[float] = []
        first: list[float] = []
        compiled: list[float] = []
        compiled_first: list[float] = []
        no_bytecode = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
        for _ in range(repeat):  # interleaved: a slower minute slows every column
            uv.append(build_seconds("uv", requirements, root, env, first))
            compiled.append(build_seconds("uv", requirements, root, no_bytecode, compiled_first))
            pip.append(build_seconds("venv", requirements, root, env))
            hand.append(by_hand_seconds(requirements, root, env))
        uv_s, pip_s, hand_s, compiled_s, first_s, compiled_first_s = map(
            statistics.median, (uv, pip, hand, compiled, first, compiled_first)
        )
        rows.append(f"| new env, warm cache (median of {repeat}) | {uv_s:.2f} s | {pip_s:.2f} s "
                    f"| {hand_s:.2f} s | {uv_s / hand_s:.2f}x |")  # fmt: skip
        rows.append(f"| same, `PYTHONDONTWRITEBYTECODE=1`: compiled at install "
                    f"| {compiled_s:.2f} s | | {hand_s:.2f} s "
                    f"| {compiled_s / hand_s:.2f}x |")  # fmt: skip
        rows.append(f"| then the first `{FIRST_IMPORT}` in it: compiled at import / at install "
                    f"| {first_s:.2f} s | | {compiled_first_s:.2f} s | |")  # fmt: skip
        if args.cold_cache:
            cold = {
                **env,
                "UV_CACHE_DIR": str(root / "uv-cache"),
                "PIP_CACHE_DIR": str(root / "pip-cache"),
            }
            uv_cold = build_seconds("uv", requirements, root, cold)
            pip_cold = build_seconds("venv", requirements, root, cold)
            hand_cold = by_hand_seconds(
                requirements, root, {**cold, "UV_CACHE_DIR": str(root / "uv-hand")}
            )
            rows.append(f"| new env, empty cache (downloads) | {uv_cold:.2f} s | {pip_cold:.2f} s "
                        f"| {hand_cold:.2f} s | {uv_cold / hand_cold:.2f}x |")  # fmt: skip
        print(f"### (a) creating an environment with {', '.join(requirements)}\n")
        print("\n".join(rows))

        manager = create_manager(
            "venv", {"requirements": requirements}, project_dir=root, envs_dir=root / "kept"
        )
        manager.ensure()

        def reuse() -> None:
            fresh = create_manager(
                "venv", {"requirements": requirements}, project_dir=root, envs_dir=root / "kept"
            )
            assert not fresh.ensure().created

        reuse_s = median_seconds(reuse, 20 if args.quick else 200)
        print("\n### (b) ensure() of an existing environment (target <= 0.3 s)\n")
        print("| case | median |\n|---|---:|")
        print(f"| resolve spec, hash, read manifest | {reuse_s * 1000:.2f} ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
