"""The command line, `python -m bot COMMAND`: one module per command.

Each command's module has `add_parser(commands)`, which declares its words, and `run(settings, args)`,
which does it (the demo's `run(args)` takes no settings: it makes its own). A module imports what its
command needs inside `run`, so that `python -m bot invite` does not load the bot, its handlers, charts
or web console: the everyday commands start in a fraction of a second (bench/cli_startup.py).
"""

from __future__ import annotations

import argparse
import gc
import logging
import os

from bot.cli import (
    audit,
    backup,
    console,
    demo,
    doctor,
    export,
    import_,
    invite,
    questionnaires,
    replay,
    report,
    run,
    schedule,
    staff,
)
from bot.cli.common import fail

# The everyday commands, each over in a moment (bench/cli_startup.py times them). They use neither the
# alert rules nor the crisis texts, and start without reading them (`run` and `doctor` check both). The
# cyclic garbage collector stays off in them: the little they leave in cycles goes with the process.
EVERYDAY = (invite, schedule, staff, audit)

# In the order `python -m bot --help` lists them.
COMMANDS = (
    run,
    console,
    demo,
    invite,
    schedule,
    questionnaires,
    staff,
    import_,
    replay,
    export,
    report,
    audit,
    backup,
    doctor,
)


def configure_logging(verbose: bool = False) -> None:
    from bot.logs import quiet_library_loggers

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        quiet_library_loggers()


def parser() -> argparse.ArgumentParser:
    described = argparse.ArgumentParser(prog="python -m bot", description="CRPS symptom diary bot")
    commands = described.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.add_parser(commands).set_defaults(module=module)
    return described


def main(argv: list[str] | None = None) -> None:
    # Everything this process writes (the database, exports, backups, the demo's files, whatever a
    # library writes) is for its owner only, whatever umask the shell or service manager gave it.
    os.umask(0o077)
    args = parser().parse_args(argv)
    if args.module in EVERYDAY and argv is None:  # a process of its own, not a test calling main()
        gc.disable()
    if args.module is demo:
        configure_logging()
        demo.run(args)
        return
    from bot.config import ConfigurationError, load_settings

    try:
        settings = load_settings(check_alert_files=args.module not in EVERYDAY)
    except ConfigurationError as error:
        fail(f"configuration: {error}")
    configure_logging(getattr(args, "verbose", False))
    args.module.run(settings, args)
