"""Environment builds, measured side by side in one run.

(a) Creating a new environment with the sklearn template's requirements
    (scikit-learn, matplotlib) through VenvManager: uv against the standard
    library's venv + pip. Each tool's download cache is warmed by one untimed
    build first, so the table compares installing, not the network
    (``--cold-cache`` adds builds with empty caches, downloads included).
(b) ``ensure()`` of an environment that exists: a new manager each time (the
    spec is resolved and hashed, the manifest read), as every ``mlops run`` does.

Run by ``nox -s bench``; prints markdown tables. ``--quick`` repeats less.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from _timing import median_seconds
from mlops.environment.factory import create_manager

TEMPLATE_CONFIG = Path(__file__).resolve().parents[1] / "src/mlops/templates/sklearn/configs"


def template_requirements() -> list[str]:
    """The requirements the sklearn template's config lists (read, not copied)."""
    from ruamel.yaml import YAML

    text = (TEMPLATE_CONFIG / "project_config.yaml").read_text(encoding="utf-8")
    config = YAML(typ="safe").load(text.replace("${project_id}", "bench"))
    return list(config["environment"]["venv"]["requirements"])


def build_seconds(backend: str, requirements: list[str], root: Path, env: dict[str, str]) -> float:
    manager = create_manager(
        "venv",
        {"requirements": requirements, "backend": backend},
        project_dir=root,
        envs_dir=root / f"envs-{backend}-{time.monotonic_ns()}",
        environ=env,
    )
    start = time.perf_counter()
    environment = manager.ensure()
    elapsed = time.perf_counter() - start
    assert environment.created
    assert environment.tool == ("uv" if backend == "uv" else "pip")
    manager.remove()
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
        env = dict(os.environ)
        rows = ["| build | uv | venv + pip | uv speed-up |", "|---|---:|---:|---:|"]
        for backend in ("uv", "venv"):
            build_seconds(backend, requirements, root, env)  # warm this tool's cache
        uv = [build_seconds("uv", requirements, root, env) for _ in range(repeat)]
        pip = [build_seconds("venv", requirements, root, env) for _ in range(repeat)]
        uv_s, pip_s = sorted(uv)[len(uv) // 2], sorted(pip)[len(pip) // 2]
        rows.append(f"| new env, warm cache (median of {repeat}) | {uv_s:.2f} s | {pip_s:.2f} s "
                    f"| {pip_s / uv_s:.1f}x |")  # fmt: skip
        if args.cold_cache:
            cold = {
                **env,
                "UV_CACHE_DIR": str(root / "uv-cache"),
                "PIP_CACHE_DIR": str(root / "pip-cache"),
            }
            uv_cold = build_seconds("uv", requirements, root, cold)
            pip_cold = build_seconds("venv", requirements, root, cold)
            rows.append(f"| new env, empty cache (downloads) | {uv_cold:.2f} s | {pip_cold:.2f} s "
                        f"| {pip_cold / uv_cold:.1f}x |")  # fmt: skip
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
