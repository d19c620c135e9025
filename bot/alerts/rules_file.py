"""The rules file the bot reads (RULES_FILE), changed while it runs: saved by an admin in the web console,
and followed by the running bot, which takes the new rules for the check-ins that come after.

A save is atomic: the new text is written beside the file and renamed over it, so the bot never reads
half a file, and the file it replaces is kept beside it as `<name>.bak`. The bot compares the file's
SHA-256 at every scheduler tick; a file changed by another process (`python -m bot console`, an editor)
is loaded with the same checks as at start-up, and one that does not load leaves the bot on the rules it
has, with an error in its log.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from bot.alerts.rules import Rules, RulesError, read_rules

log = logging.getLogger(__name__)


class RulesChanged(Exception):
    """The file is no longer the one the edit started from: someone saved in between."""


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def normalised(text: str) -> str:
    """A browser sends a textarea with CRLF line ends; the file keeps LF, and ends with one."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if text.endswith("\n") else text + "\n"


def backup_of(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def current(path: Path) -> tuple[str, str]:
    """The file's text and its fingerprint (of the bytes on disk)."""
    data = path.read_bytes()
    return data.decode("utf-8"), fingerprint(data)


def save(path: Path, text: str, *, expected: str) -> tuple[Rules, str, str]:
    """Check `text` as the bot would load it, then put it in place of the file, keeping the old one as
    the backup. `expected` is the fingerprint of the file the edit started from: RulesChanged when it is
    no longer there. Returns the new rules and the fingerprints of the old and the new file. RulesError
    (or OSError) leaves the file as it was."""
    text = normalised(text)
    rules = read_rules(text, source=path.name)
    before = path.read_bytes()
    if fingerprint(before) != expected:
        raise RulesChanged(str(path))
    data = text.encode("utf-8")
    partial = path.with_name(path.name + ".partial")
    backup = backup_of(path)
    try:
        with partial.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        backup.write_bytes(before)
        os.replace(partial, path)  # readers see the old file or the new one, never a mix
    finally:
        partial.unlink(missing_ok=True)
    return rules, fingerprint(before), fingerprint(data)


class RulesFollower:
    """Tells the running bot when the rules file changed, with the new rules (None: unchanged, or
    changed into a file that does not load, which is logged once)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen = self._fingerprint()

    def _fingerprint(self) -> str | None:
        try:
            return fingerprint(self.path.read_bytes())
        except OSError:
            return None

    def check(self) -> Rules | None:
        try:
            data = self.path.read_bytes()
        except OSError as error:
            if self.seen is not None:
                log.error("rules file %s cannot be read (%s): keeping the rules in use", self.path, error.strerror)
            self.seen = None
            return None
        seen = fingerprint(data)
        if seen == self.seen:
            return None
        self.seen = seen
        try:
            rules = read_rules(data.decode("utf-8"), source=str(self.path))
        except (RulesError, UnicodeDecodeError) as error:
            log.error("rules file changed but does not load, keeping the rules in use: %s", error)
            return None
        log.info("rules file %s changed: new rules in use for new check-ins", self.path)
        return rules
