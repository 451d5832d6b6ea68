"""The kill rate of a ``mutmut run``, per module, as markdown (``nox -s mutation``).

mutmut keeps each mutated file's outcomes in ``mutants/<path>.meta``
(``exit_code_by_key``: mutant name -> the exit code of its test run). A mutant
is *detected* when a test failed (killed), the tests hung (timeout) or the
type checker refused it; it *survives* when the tests passed or none covered
it. The kill rate is detected / (detected + survived); mutants mutmut skipped
or did not check are left out of both.

Usage: ``python tools/nox_support/mutation_report.py [MUTANTS_DIR] [--fail-under PERCENT]
[--output FILE] [--survivors N]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# mutmut's exit codes (mutmut.stats.status_by_exit_code), grouped by what they say of the tests.
DETECTED = {1: "killed", 3: "killed", 36: "timeout", 24: "timeout", -24: "timeout",
            152: "timeout", 255: "timeout", 37: "type check"}  # fmt: skip
SURVIVED = {0: "survived", 5: "no tests", 33: "no tests"}


@dataclass
class ModuleScore:
    path: str
    outcomes: Counter[str] = field(default_factory=Counter)
    survivors: list[str] = field(default_factory=list)

    @property
    def detected(self) -> int:
        return sum(self.outcomes[name] for name in set(DETECTED.values()))

    @property
    def survived(self) -> int:
        return sum(self.outcomes[name] for name in set(SURVIVED.values()))

    @property
    def rate(self) -> float:
        checked = self.detected + self.survived
        return 100.0 * self.detected / checked if checked else 0.0


def load_scores(mutants_dir: Path) -> list[ModuleScore]:
    scores = []
    for meta in sorted(mutants_dir.rglob("*.py.meta")):
        exit_codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        if not exit_codes:
            continue
        score = ModuleScore(meta.relative_to(mutants_dir).as_posix().removesuffix(".meta"))
        for mutant, code in sorted(exit_codes.items()):
            if code in DETECTED:
                score.outcomes[DETECTED[code]] += 1
            elif code in SURVIVED:
                score.outcomes[SURVIVED[code]] += 1
                score.survivors.append(mutant)
            else:
                score.outcomes["not checked" if code is None else "other"] += 1
        scores.append(score)
    return scores


def total(scores: list[ModuleScore]) -> ModuleScore:
    combined = ModuleScore("all")
    for score in scores:
        combined.outcomes.update(score.outcomes)
        combined.survivors.extend(score.survivors)
    return combined


def report_lines(scores: list[ModuleScore], *, target: float, survivors: int = 15) -> list[str]:
    everything = total(scores)
    verdict = "meets" if everything.rate >= target else "is below"
    lines = [
        "## Mutation testing",
        "",
        (
            f"Kill rate **{everything.rate:.1f}%** ({everything.detected} of "
            f"{everything.detected + everything.survived} mutants detected); "
            f"it {verdict} the {target:.0f}% target."
        ),
        "",
        "| module | mutants | killed | timeout | survived | no tests | kill rate |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for score in [*scores, everything]:
        name = "**all**" if score is everything else f"`{score.path}`"
        counts = score.outcomes
        lines.append(
            f"| {name} | {sum(counts.values())} | {counts['killed']} | {counts['timeout']} "
            f"| {counts['survived']} | {counts['no tests']} | {score.rate:.1f}% |"
        )
    if everything.survivors and survivors:
        by_function = Counter(name.split("__mutmut_")[0] for name in everything.survivors)
        lines += ["", "Functions with the most surviving mutants (`mutmut show <name>`):", ""]
        lines += [f"- `{name}`: {count}" for name, count in by_function.most_common(survivors)]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mutants_dir", nargs="?", type=Path, default=Path("mutants"))
    parser.add_argument("--fail-under", type=float, default=80.0, metavar="PERCENT")
    parser.add_argument("--output", type=Path, help="also write the markdown here")
    parser.add_argument("--survivors", type=int, default=15, help="functions listed")
    args = parser.parse_args(argv)
    scores = load_scores(args.mutants_dir)
    if not scores:
        print(f"no mutmut results under {args.mutants_dir}: run mutmut first", file=sys.stderr)
        return 2
    text = "\n".join(report_lines(scores, target=args.fail_under, survivors=args.survivors))
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n", encoding="utf-8")
    return 0 if total(scores).rate >= args.fail_under else 1


if __name__ == "__main__":
    raise SystemExit(main())
