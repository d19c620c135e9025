"""Which SQL statements the tests run on PostgreSQL, compared between two runs: a test moved to SQLite only
(`@SQLITE_ONLY`, tests/harness.py) must leave no statement that no other test still runs on PostgreSQL.

    DIARY_RECORD_SQL=/tmp/before uv run pytest -m postgres     # on the commit before the move
    DIARY_RECORD_SQL=/tmp/after uv run pytest -m postgres      # after it
    uv run python -m tests.postgres_statements /tmp/before /tmp/after

Prints each statement only the first run ran, with the tests that ran it; exit status 1 if there is one.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path


def statements(folder: Path) -> dict[str, set[str]]:
    """Statement -> the tests that ran it, from every worker's file of a recorded run."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in folder.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            for statement in record["statements"]:
                found[statement].add(record["test"])
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    before, after = (statements(Path(folder)) for folder in argv)
    lost = sorted(set(before) - set(after))
    for statement in lost:
        print(f"{statement}\n    ran in: {', '.join(sorted(before[statement]))}\n")
    print(f"{len(before)} statements before, {len(after)} after, {len(lost)} no longer run on PostgreSQL")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
