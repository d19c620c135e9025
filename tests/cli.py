"""`python -m bot ...` run in the test process: `main(argv)` with its own environment, output and exit
status, as a subprocess would give them, without a new interpreter's seconds of imports. One test per
exit-code contract still runs a real process: 0 in tests/test_command_line.py, 2 in tests/test_hardening.py
(`run` with a token Telegram refuses)."""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from bot.cli import main

# What the machine's environment must not bring in: each run says what it needs.
OURS = ("TELEGRAM_", "DEFAULT_", "DATABASE_", "STAFF_", "ADMIN_")
_ONE_AT_A_TIME = threading.Lock()  # the environment and sys.stdout belong to the whole process


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    with mock.patch.dict(os.environ, clean | values, clear=True):
        yield


def run_cli(*args: str | Path, own_logging: bool = False, **env: str) -> Completed:
    """Run the command line in a thread of its own (it starts its own event loop, which cannot run
    inside a test's) and return what it printed and its exit status. Its logging set-up is left out
    unless `own_logging`: it belongs to the process, and the test's handlers are left alone (with it,
    the library loggers it quiets stay quiet for the rest of the run, as the bot's own tests set them)."""
    result: list[Completed] = []

    def work() -> None:
        out, err = io.StringIO(), io.StringIO()
        code = 0
        with (
            _environment(env),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            contextlib.nullcontext() if own_logging else mock.patch("bot.cli.configure_logging"),
        ):
            try:
                main([str(arg) for arg in args])
            except SystemExit as stopped:
                code = stopped.code if isinstance(stopped.code, int) else 1
        result.append(Completed(code, out.getvalue(), err.getvalue()))

    with _ONE_AT_A_TIME:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    return result[0]
