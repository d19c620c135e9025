"""How long the everyday commands take from the shell: `invite`, `schedule`, `staff` and `audit`, each
run as a real `python -m bot` process on a temporary SQLite database already migrated, beside
`python -c pass` and `python -c "import telegram"` for scale, and the database layer's import alone
(SQLAlchemy's asyncio engine, SQLModel, aiosqlite and the table classes: what any command that reads
the database needs before doing anything; its objects frozen before the interpreter ends, as
`python -m bot` does). Prints the median and the worst wall time, and the median
CPU time (user + system) of the process, which a busy machine changes far less. With `--instructions`,
also the instructions each runs (once, under valgrind's callgrind, with the bytecode cache), a figure
a busy machine does not change at all: the one to compare two checkouts by on a shared machine.

    uv run python bench/cli_startup.py [--runs 7] [--root CHECKOUT] [--instructions]

Two columns: with the interpreter's bytecode cache (how an installed diary runs once its files have
been imported a first time; the cache is kept in a temporary folder, not in the checkout) and
without it (PYTHONDONTWRITEBYTECODE=1, as some shells set it: every module is compiled again at each
start). `--root` times another checkout (e.g. an export of main) with this interpreter; given twice or
more, the checkouts' runs take turns.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What the machine's environment must not bring in: each run says what it needs.
OURS = ("TELEGRAM_", "DEFAULT_", "DATABASE_", "STAFF_", "ADMIN_", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")


def cpu_of_children() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one run."""
    started, cpu = time.perf_counter(), cpu_of_children()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[1:])} failed ({done.returncode}): {done.stderr.strip()}")
    return seconds, cpu_of_children() - cpu


DATABASE_LAYER = "import storage.database, storage.models, aiosqlite, gc; gc.freeze()"


def instructions(argv: list[str], env: dict[str, str], cwd: Path) -> int:
    """Instructions one run executes, counted by valgrind (tens of times slower than a run)."""
    counted = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv]
    done = subprocess.run(counted, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{' '.join(argv[1:])} under valgrind failed ({done.returncode}): {done.stderr[-500:]}")
    return int(found.group(1))


COMMANDS = (
    "python -c pass",
    'python -c "import telegram"',
    "the database layer's import",
    "invite",
    "schedule",
    "staff",
    "audit",
)


class Checkout:
    """One checkout's commands, on a database and (cached) a bytecode cache of their own."""

    def __init__(self, root: Path, folder: Path, cached: bool) -> None:
        self.root = root
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
        self.env |= {"DATABASE_URL": f"sqlite:///{folder / 'diary.db'}", "TELEGRAM_BOT_USERNAME": "clinic_diary_bot"}
        if cached:
            self.env["PYTHONPYCACHEPREFIX"] = str(folder / "bytecode")
        else:
            self.env["PYTHONDONTWRITEBYTECODE"] = "1"
        self.codes = iter(range(1, 100_000))
        self.times: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
        self.instructions: dict[str, int] = {}

    def argv(self, name: str) -> list[str]:
        bot = [sys.executable, "-m", "bot"]
        if name == "invite":
            return [*bot, "invite", "--code", f"P-{next(self.codes):04d}"]  # a new patient each time
        return {
            "python -c pass": [sys.executable, "-c", "pass"],
            'python -c "import telegram"': [sys.executable, "-c", "import telegram"],
            "the database layer's import": [sys.executable, "-c", DATABASE_LAYER],
            "schedule": [*bot, "schedule", "P-0001"],
            "staff": [*bot, "staff", "list"],
            "audit": [*bot, "audit"],
        }[name]

    def run(self, name: str) -> tuple[float, float]:
        return timed(self.argv(name), self.env, self.root)


def measure(roots: list[Path], runs: int, cached: bool, count: bool) -> list[Checkout]:
    """Each checkout with its times and, if `count`, its instructions."""
    with tempfile.TemporaryDirectory() as folder:
        checkouts = []
        for n, root in enumerate(roots):
            (Path(folder) / str(n)).mkdir()
            checkouts.append(Checkout(root, Path(folder) / str(n), cached))
        # The first invite migrates the database and (cached) fills the bytecode cache: not timed.
        for checkout in checkouts:
            for name in COMMANDS:
                checkout.run(name)
        # Interleaved, so that a busy moment of the machine hits every command and checkout alike.
        for _ in range(runs):
            for name in COMMANDS:
                for checkout in checkouts:
                    checkout.times[name].append(checkout.run(name))
        if count:  # once each, after the timed runs: valgrind's minutes would load the machine for them
            for checkout in checkouts:
                for name in COMMANDS:
                    checkout.instructions[name] = instructions(checkout.argv(name), checkout.env, checkout.root)
        return checkouts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each command (default: 7)")
    parser.add_argument(
        "--root", type=Path, action="append", help="a checkout to run, again for more (default: this one)"
    )
    parser.add_argument(
        "--instructions", action="store_true", help="also count each command's instructions under valgrind"
    )
    args = parser.parse_args()
    roots = [root.resolve() for root in args.root or [ROOT]]
    results = {
        cached: measure(roots, args.runs, cached, count=cached and args.instructions) for cached in (True, False)
    }
    for n, root in enumerate(roots):
        print(f"{root}: {args.runs} runs each, seconds: wall median / worst, CPU median")
        heading = f"{'instructions':>14}" if args.instructions else ""
        print(f"{'command':30} {'bytecode cached':>22} {'no bytecode cache':>22}{heading}")
        for name in COMMANDS:
            cells = []
            for cached in (True, False):
                times = results[cached][n].times[name]
                wall = [w for w, _ in times]
                cells.append(
                    f"{statistics.median(wall):.2f} / {max(wall):.2f}, {statistics.median(c for _, c in times):.2f}"
                )
            counted = f"{results[True][n].instructions[name] / 1e6:>12,.0f} M" if args.instructions else ""
            print(f"{name:30} {cells[0]:>22} {cells[1]:>22}{counted}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
