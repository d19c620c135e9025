"""`python -m bot run | console | demo | invite | schedule | questionnaires | staff | import | replay |
export | report | audit | backup | doctor`: each command lives in its own module of bot/cli/."""

import gc

from bot.cli import main

if __name__ == "__main__":
    try:
        main()
    finally:
        # The process is ending, and the system frees its memory at once. Without this the collector
        # first walks every object the database and settings libraries made: a third of a short
        # command's time (bench/cli_startup.py). Everything still runs as at any exit: files are
        # flushed and closed, the log handlers and the interpreter's exit hooks run.
        gc.freeze()
