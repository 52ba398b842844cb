"""Mutation testing of coachcore: mutate the code, run the tests that reach it.

    python tools/mutation/run.py                       # domain/, scheduling/, policies/
    python tools/mutation/run.py src/coachcore/services --no-fail
    python tools/mutation/run.py --changed main        # only files changed since main

1. One run of the tests on the memory store under coverage records which test
   executes which line (tests that never run on the memory store are left out).
2. Each mutant (see mutants.py) is imported in a fresh pytest process that runs
   only the tests reaching its lines, fastest first, with ``-x``; a failing test,
   an error or a timeout kills it.
3. The score is killed / (mutants - known equivalents); the equivalents, each
   with its reason, are in tools/mutation/equivalent.toml (shown in docs/mutation.md).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
from mutants import Mutant, list_mutants  # noqa: E402

CORE = ["src/coachcore/domain", "src/coachcore/scheduling", "src/coachcore/policies"]
MEMORY_ONLY = "memory or not (sqlite or postgresql)"
# Tests that exercise only the SQL stores, processes or a browser: no memory-store signal.
NOT_MEMORY = [
    "tests/test_browser.py",
    "tests/test_migrations.py",
    "tests/test_sister_migrations.py",
    "tests/test_pgserver.py",
    "tests/test_sql_store.py",
    "tests/test_sql_batching.py",
    "tests/test_benchmarks_booking.py",
    "tests/test_live_events.py",
    "tests/test_concurrency.py",
    "tests/test_concurrency_faults.py",
    "tests/test_races_bookings.py",
    "tests/test_races_coaching.py",
    "tests/test_races_organizations.py",
    "tests/test_examples.py",
    "tests/test_examples_more.py",
    "tests/test_plugin_package.py",
]


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed, survived, timeout, uncovered
    seconds: float


def target_files(paths: list[str], changed: str | None) -> list[Path]:
    files = sorted(
        file
        for path in paths
        for file in ((ROOT / path).rglob("*.py") if (ROOT / path).is_dir() else [ROOT / path])
    )
    if changed is not None:
        diff = subprocess.run(
            ["git", "diff", "--name-only", changed, "--", *paths],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.split()
        touched = {(ROOT / name).resolve() for name in diff}
        files = [file for file in files if file.resolve() in touched]
    return files


def pytest_command(tests: list[str]) -> list[str]:
    return [
        sys.executable, "-m", "pytest", "-p", "plugin", "-p", "no:cacheprovider",
        "-q", "--no-header", "-o", "addopts=", "-W", "ignore", *tests,
    ]


def environment(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT / "tests"), str(ROOT / "src")])
    env["HYPOTHESIS_PROFILE"] = "mutation"
    env.pop("CI", None)
    env.update(extra)
    return env


def map_tests(work: Path, tests: list[str], files: list[Path]) -> tuple[dict, dict[str, float]]:
    """Run the memory-store tests once under coverage: line -> tests, test -> seconds."""
    ignore = [f"--ignore={name}" for name in NOT_MEMORY]
    started = time.perf_counter()
    run = subprocess.run(
        [*pytest_command(tests), *ignore, "-k", MEMORY_ONLY, "-m", "not slow"],
        cwd=ROOT, env=environment(
            COACHCORE_MUTATION_MAP=str(work),
            COACHCORE_MUTATION_SOURCE=",".join(str(file) for file in files),
        ),
        capture_output=True, text=True,
    )
    print(f"test map: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if run.returncode not in (0, 1):
        sys.exit(f"the tests did not run (exit {run.returncode}):\n{run.stdout[-3000:]}")
    failed = set(json.loads((work / "failed.json").read_text()))
    for test in sorted(failed):  # a test failing unmutated cannot tell a mutant apart
        print(f"left out, fails unmutated: {test}", file=sys.stderr)
    import coverage

    data = coverage.CoverageData(basename=str(work / "coverage"))
    data.read()
    lines: dict[str, dict[int, set[str]]] = {}
    for measured in data.measured_files():
        by_line = data.contexts_by_lineno(measured)
        lines[str(Path(measured).resolve())] = {
            line: {context for context in contexts if context and context not in failed}
            for line, contexts in by_line.items()
        }
    durations = json.loads((work / "durations.json").read_text())
    return lines, durations


def preload(tests: list[str]) -> None:
    """Import in this process every third-party module the tests use, so each
    forked mutant process starts warm; nothing of coachcore or the tests."""
    listing = subprocess.run(
        [sys.executable, "-c", PRELOAD_LISTING], cwd=ROOT, env=environment(),
        capture_output=True, text=True, check=True,
    ).stdout.split()
    for name in listing:
        try:
            importlib.import_module(name)
        except Exception:  # a module that will not import is not preloaded
            continue


PRELOAD_LISTING = """
import sys, pathlib, pytest
pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "tests"],
            plugins=[])
root = pathlib.Path.cwd().resolve()
for name, module in sorted(sys.modules.items()):
    file = getattr(module, "__file__", None) or ""
    if name.startswith(("coachcore", "__")) or str(root) in file:
        continue
    print(name, file=sys.__stdout__)
"""


def run_mutant(
    mutant: Mutant, tests: list[str], durations: dict[str, float], factor: float
) -> Outcome:
    """Fork, import the mutant and run ``tests`` fastest first, stopping at the first failure."""
    if not tests:
        return Outcome(mutant, "uncovered", 0.0)
    ordered = sorted(tests, key=lambda test: durations.get(test, 0.0))
    timeout = factor * sum(durations.get(test, 1.0) for test in ordered) + 10
    started = time.perf_counter()
    child = os.fork()
    if child == 0:  # pragma: no cover - the mutant's process
        code = 3
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            os.environ.update(environment(COACHCORE_MUTANT=mutant.key))
            sys.path[:0] = [str(HERE), str(ROOT / "tests"), str(ROOT / "src")]
            import pytest

            code = int(pytest.main([*pytest_command(ordered)[3:], "-x"]))
        finally:
            os._exit(code)
    while True:
        done, status = os.waitpid(child, os.WNOHANG)
        if done:
            break
        if time.perf_counter() - started > timeout:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
            return Outcome(mutant, "timeout", time.perf_counter() - started)
        time.sleep(0.05)
    code = os.waitstatus_to_exitcode(status)
    outcome = "survived" if code == 0 else "uncovered" if code == 5 else "killed"
    return Outcome(mutant, outcome, time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", default=CORE, help="files or folders to mutate")
    parser.add_argument("--tests", nargs="*", default=["tests"], help="tests to run")
    parser.add_argument("--changed", metavar="BASE", help="mutate only files changed since BASE")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--match", help="only mutants whose key contains this")
    parser.add_argument("--sample", type=int, help="a random sample of N mutants (an estimate)")
    parser.add_argument("--seed", type=int, default=21, help="the sample's seed")
    parser.add_argument("--timeout-factor", type=float, default=4.0)
    parser.add_argument("--fail-under", type=float, default=90.0)
    parser.add_argument("--no-fail", action="store_true", help="report the score, exit 0")
    parser.add_argument("--json", help="write every outcome to this file")
    parser.add_argument(
        "--rerun", metavar="JSON",
        help="run again only the mutants a previous --json run left alive; report all",
    )
    args = parser.parse_args()

    files = target_files(args.paths, args.changed)
    if not files:
        print("nothing to mutate")
        return 0
    mutants = [
        mutant
        for file in files
        for mutant in list_mutants(str(file.relative_to(ROOT)), file.read_text())
        if args.match is None or args.match in mutant.key
    ]
    earlier: dict[str, Outcome] = {}
    listed = {mutant.key for mutant in mutants}
    if args.rerun:
        for row in json.loads(Path(args.rerun).read_text()):
            path, scope, rest = row["key"].split("::")
            operator, index = rest.rsplit("#", 1)
            mutant = Mutant(path, scope, operator, int(index), row["line"], row["text"])
            if mutant.key in listed:  # not code removed since
                earlier[row["key"]] = Outcome(mutant, row["status"], row["seconds"])
        mutants = [
            mutant for mutant in mutants
            if mutant.key not in earlier or earlier[mutant.key].status in ("survived", "uncovered")
        ]
    if args.sample is not None and args.sample < len(mutants):
        mutants = sorted(
            random.Random(args.seed).sample(mutants, args.sample),
            key=lambda mutant: (mutant.path, mutant.line),
        )
    equivalent = tomllib.loads((HERE / "equivalent.toml").read_text())
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        lines, durations = map_tests(Path(work), args.tests, files)

    def reaching(mutant: Mutant) -> list[str]:
        by_line = lines.get(str((ROOT / mutant.path).resolve()), {})
        last = mutant.line + max(mutant.text.count("\n"), 0)
        spanned = range(mutant.line, last + 1)
        return sorted({test for line in spanned for test in by_line.get(line, ())})

    preload(args.tests)
    def one(mutant: Mutant) -> Outcome:
        outcome = run_mutant(mutant, reaching(mutant), durations, args.timeout_factor)
        print(f"{outcome.status:9} {outcome.seconds:5.1f} s  {mutant.key}", file=sys.stderr)
        return outcome

    with ThreadPoolExecutor(args.jobs) as pool:
        outcomes = list(pool.map(one, mutants))
    if earlier:
        again = {outcome.mutant.key for outcome in outcomes}
        outcomes += [outcome for key, outcome in earlier.items() if key not in again]
    return report(outcomes, equivalent, time.perf_counter() - started, args)


def report(outcomes: list[Outcome], equivalent: dict, seconds: float, args) -> int:
    per_file: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        per_file[outcome.mutant.path].append(outcome)
    known = set(equivalent)

    def score(group: list[Outcome]) -> tuple[int, int, int]:
        killed = sum(outcome.status in ("killed", "timeout") for outcome in group)
        same = sum(
            outcome.mutant.key in known and outcome.status not in ("killed", "timeout")
            for outcome in group
        )
        return killed, len(group) - same, same

    for path, group in sorted(per_file.items()):
        killed, counted, same = score(group)
        print(f"{path}: {killed}/{counted} killed ({100 * killed / max(counted, 1):.0f} %)"
              f", {same} equivalent")
    survivors = [
        outcome for outcome in outcomes
        if outcome.status in ("survived", "uncovered") and outcome.mutant.key not in known
    ]
    for outcome in survivors:
        mutant = outcome.mutant
        print(f"  {outcome.status}: {mutant.key}  (line {mutant.line}: {mutant.text[:70]!r})")
    stale = known - {outcome.mutant.key for outcome in outcomes}
    killed, counted, same = score(outcomes)
    total = 100 * killed / max(counted, 1)
    print(f"score: {killed}/{counted} non-equivalent mutants killed ({total:.1f} %), "
          f"{same} equivalent, {len(outcomes)} mutants, {seconds:.0f} s")
    if args.sample is not None:
        share = killed / max(counted, 1)
        margin = 196 * (share * (1 - share) / max(counted, 1)) ** 0.5
        print(f"(a random sample, seed {args.seed}: the score is {total:.0f} ± {margin:.0f} %"
              " at 95 % confidence)")
    if stale and args.match is None and args.changed is None and args.paths == CORE:
        print("equivalents no longer found (remove from equivalent.toml):", *sorted(stale))
    if args.json:
        Path(args.json).write_text(json.dumps([
            {"key": outcome.mutant.key, "line": outcome.mutant.line, "text": outcome.mutant.text,
             "status": outcome.status, "seconds": round(outcome.seconds, 2)}
            for outcome in outcomes
        ], indent=1))
    return 0 if args.no_fail or total >= args.fail_under else 1


if __name__ == "__main__":
    sys.exit(main())
