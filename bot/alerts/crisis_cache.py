"""The crisis patterns as compiled, kept on disk between starts: compiling the clinic's files takes most of
a second at every start of the bot and of `replay`, reading the compiled patterns back a twentieth of it.

The file is named by a hash of everything compiling depends on: the pattern files (their paths and bytes),
the compiler (bot/alerts/crisis.py, which imports nothing else of ours that shapes a pattern), this file
(what it writes and reads back), Python's version (its Unicode tables normalise the words) and PyYAML's. Any
change is another name, so a cache made from other files or by other code is never read. Files whose patterns
do not compile are never cached: loading them fails as it always did. A cache that cannot be read or written is
compiled around.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

from bot.alerts import crisis
from bot.alerts.crisis import CrisisLanguage, Pattern
from bot.prompts import PROMPTS_DIR

log = logging.getLogger(__name__)

DEFAULT_DIRECTORY = PROMPTS_DIR / "crisis"
KEEP = 8  # compiled sets of patterns kept, the newest first (2.6 MB each for the clinic's files)


def cache_folder() -> Path | None:
    """The user's own cache folder (XDG_CACHE_HOME, else ~/.cache): no other user may write what decides
    whether a message is a crisis. None when there is no home folder to put it in."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:
            return None
    return Path(base) / "crps-diary"


def load(directory: Path = DEFAULT_DIRECTORY, folder: Path | None = None) -> CrisisLanguage:
    """As `CrisisLanguage.load(directory)`, from the cache when it holds these files compiled by this code."""
    folder = folder or cache_folder()
    files = sorted(p for p in directory.glob("*.yaml") if p.is_file())
    try:
        key = _key(files)
    except OSError:
        return CrisisLanguage.load(directory)  # a file that cannot be read: load says which, and why
    path = folder / f"crisis-{key}.json" if folder else None
    if path is not None:
        try:
            patterns = _decode(json.loads(path.read_bytes()))
        except FileNotFoundError:
            pass
        except (OSError, ValueError, TypeError, KeyError) as error:
            log.warning("the compiled crisis patterns could not be read (%s): compiling them again", error)
        else:
            return CrisisLanguage(patterns, crisis.learned_beside(directory))  # the model is read as it is kept
    language = CrisisLanguage.load(directory)
    if path is not None:
        _save(path, language)
    return language


def _key(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for part in (sys.version, yaml.__version__, Path(crisis.__file__).read_bytes(), Path(__file__).read_bytes()):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    for path in files:
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _save(path: Path, language: CrisisLanguage) -> None:
    patterns = language.patterns  # every section's: one left out would be lost at the next start
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Written aside and renamed: a process starting meanwhile reads the whole file or none.
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".partial", delete=False) as handle:
            try:
                json.dump([_encode(p) for p in patterns], handle)
            except BaseException:
                Path(handle.name).unlink(missing_ok=True)  # a full disk leaves nothing behind
                raise
        os.replace(handle.name, path)
        # Made from files or code since changed, beyond the newest few (several checkouts may share the
        # folder, each with patterns of its own).
        kept = sorted(path.parent.glob("crisis-*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for other in kept[KEEP:]:
            other.unlink(missing_ok=True)
    except OSError as error:
        # A service user without a home folder of its own: each start compiles, as before the cache.
        log.info("the compiled crisis patterns could not be kept (%s): the next start compiles them", error)


def _encode(pattern: Pattern) -> dict[str, Any]:
    fields = asdict(pattern)
    fields["needs"] = [sorted(words) for words in pattern.needs]
    fields["starts"] = None if pattern.starts is None else sorted(pattern.starts)
    return fields


def _decode(data: list[dict[str, Any]]) -> list[Pattern]:
    return [
        Pattern(
            **fields
            | {
                "needs": tuple(frozenset(words) for words in fields["needs"]),
                "starts": None if fields["starts"] is None else frozenset(fields["starts"]),
            }
        )
        for fields in data
    ]
