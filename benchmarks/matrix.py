"""How much the test matrix costs: environment creation and nox's overhead.

(a) Creating the tests environment cold (a new venv with the wheel and every
    pinned dependency) with uv vs virtualenv + pip. Both tools' download
    caches are warmed by an untimed run first, so the numbers compare
    environment building, not the network. Target: uv >= 5x faster.
(b) A warm ``nox -s tests-3.11`` vs bare pytest with the same arguments in the
    environment that session built. Target: overhead <= 10 s.
(c) A conda prefix (python, pip) built by py-rattler from the local channel,
    with its package cache empty (cold) and filled (warm), beside a bare
    ``uv venv`` on the same interpreter: what the conda leg costs before any
    wheel is installed. Reported, no target.

Run by ``nox -s bench``; prints a markdown table. Options: ``--repeat N``,
``--parts a,b,c`` (the measurements to take; all by default).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from _timing import median_seconds

ROOT = Path(__file__).resolve().parents[1]
PRIMARY = "3.11"
EXTRAS = "all,dev"


def run(argv: Sequence[str], **kwargs: object) -> None:
    """Run quietly; on failure show what the command printed."""
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise subprocess.CalledProcessError(done.returncode, list(argv))


def clean_env() -> dict[str, str]:
    """The caller's environment without the bench session's own venv."""
    env = dict(os.environ)
    venv = env.pop("VIRTUAL_ENV", None)
    if venv:
        env["PATH"] = os.pathsep.join(
            p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(venv)
        )
    return env


def uv_exe() -> str:
    found = shutil.which("uv")
    if found is None:
        sys.exit("uv is not installed in the bench environment")
    return found


def build_wheel(out: Path) -> Path:
    run([uv_exe(), "build", "--wheel", "--out-dir", str(out), str(ROOT)])
    return next(out.glob("mlops-*.whl"))


def cold_env_uv(python: str, wheel: Path, constraints: Path, where: Path) -> None:
    env_dir = where / "uv-env"
    shutil.rmtree(env_dir, ignore_errors=True)
    run([uv_exe(), "venv", "--quiet", "--python", python, str(env_dir)])
    run([
        uv_exe(), "pip", "install", "--quiet", "--python", str(env_dir / "bin" / "python"),
        "-c", str(constraints), f"mlops[{EXTRAS}] @ {wheel.as_uri()}",
    ])  # fmt: skip


def cold_env_pip(python: str, wheel: Path, constraints: Path, where: Path) -> None:
    env_dir = where / "pip-env"
    shutil.rmtree(env_dir, ignore_errors=True)
    run([sys.executable, "-m", "virtualenv", "--quiet", "--python", python, str(env_dir)])
    run([
        str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet",
        "-c", str(constraints), f"mlops[{EXTRAS}] @ {wheel.as_uri()}",
    ])  # fmt: skip


def local_channel(python: str, where: Path) -> Path:
    """The local conda channel (python from ``python``'s installation, pip), built untimed."""
    channel = where / "channel"
    run([sys.executable, "-m", "nox_support.conda_channel", str(channel), "--python", python],
        env={**os.environ, "PYTHONPATH": str(ROOT / "tools")})  # fmt: skip
    return channel


def rattler_prefix(channel: Path, where: Path, cache: Path, *, cold: bool) -> None:
    prefix = where / "rattler-env"
    shutil.rmtree(prefix, ignore_errors=True)
    if cold:
        shutil.rmtree(cache, ignore_errors=True)
    run([sys.executable, "-m", "mlops.environment.rattler_env", "--prefix", str(prefix),
         "--channel", str(channel), "python", "pip"],
        env={**os.environ, "MLOPS_RATTLER_CACHE": str(cache)})  # fmt: skip


def uv_venv(python: str, where: Path) -> None:
    target = where / "bare-venv"
    shutil.rmtree(target, ignore_errors=True)
    run([uv_exe(), "venv", "--quiet", "--python", python, str(target)])


def nox_session(env: dict[str, str]) -> None:
    run([sys.executable, "-m", "nox", "-s", f"tests-{PRIMARY}"], cwd=ROOT, env=env)


def bare_pytest(env: dict[str, str], scratch: Path) -> None:
    python = ROOT / ".nox" / f"tests-{PRIMARY.replace('.', '-')}" / "bin" / "python"
    argv = [str(python), "-m", "pytest", "-n", "auto", "--dist", "worksteal",
            "--cov", "--cov-report=", "--cov-fail-under=0"]  # fmt: skip
    coverage_env = {**env, "COVERAGE_FILE": str(scratch / ".coverage"),
                    "MLOPS_COVERAGE_CONTEXT": "bench", "MLOPS_EXPECT_INSTALLED": "1"}  # fmt: skip
    run(argv, cwd=ROOT, env=coverage_env)


def row(name: str, a: float, b: float, *, ratio: str, target: str, met: bool) -> str:
    return f"| {name} | {a:.2f} s | {b:.2f} s | {ratio} | {target} | {'yes' if met else 'NO'} |"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--parts", default="a,b,c", help="which of a, b, c to measure")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    python = os.environ.get("MLOPS_BENCH_PYTHON", sys.executable)
    constraints = ROOT / "constraints" / f"py{PRIMARY}.txt"
    env = clean_env()
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mlops-bench-") as tmp:
        where = Path(tmp)
        if "a" in parts:
            wheel = build_wheel(where / "dist")
            # Untimed warm-up: fills both tools' download caches.
            cold_env_uv(python, wheel, constraints, where)
            cold_env_pip(python, wheel, constraints, where)
            uv_time = median_seconds(
                lambda: cold_env_uv(python, wheel, constraints, where), args.repeat
            )
            pip_time = median_seconds(
                lambda: cold_env_pip(python, wheel, constraints, where), args.repeat
            )
            speedup = pip_time / uv_time
            cold = "(a) cold tests env: A = virtualenv + pip, B = uv"
            rows.append(row(cold, pip_time, uv_time, ratio=f"uv {speedup:.1f}x faster",
                            target="uv >= 5x", met=speedup >= 5))  # fmt: skip
        if "c" in parts:
            channel = local_channel(python, where)
            cache = where / "rattler-cache"
            cold_time = median_seconds(
                lambda: rattler_prefix(channel, where, cache, cold=True), args.repeat
            )
            warm_time = median_seconds(
                lambda: rattler_prefix(channel, where, cache, cold=False), args.repeat
            )
            venv_time = median_seconds(lambda: uv_venv(python, where), args.repeat)
            conda = "(c) conda prefix by py-rattler: A = cold package cache, B = warm"
            rows.append(f"| {conda} | {cold_time:.2f} s | {warm_time:.2f} s | "
                        f"{cold_time / warm_time:.1f}x | reported | - |")  # fmt: skip
            versus = "(c) A = warm py-rattler conda prefix, B = bare `uv venv`"
            rows.append(f"| {versus} | {warm_time:.2f} s | {venv_time:.2f} s | "
                        f"{warm_time / venv_time:.1f}x | reported | - |")  # fmt: skip
        if "b" in parts:
            nox_session(env)  # warm: environment built and wheel installed
            nox_time = median_seconds(lambda: nox_session(env), args.repeat)
            pytest_time = median_seconds(lambda: bare_pytest(env, where), args.repeat)
            overhead = nox_time - pytest_time
            warm = f"(b) A = warm `nox -s tests-{PRIMARY}`, B = bare pytest in its env"
            rows.append(row(warm, nox_time, pytest_time, ratio=f"+{overhead:.2f} s",
                            target="<= 10 s", met=overhead <= 10))  # fmt: skip
    print(
        f"\n### Test matrix (median of {args.repeat}, Python {PRIMARY}, {os.cpu_count()} cores)\n"
    )
    print("| measurement | A | B | A vs B | target | met |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
