"""Message catalogs from prompts/messages: every word the bot sends a patient comes from here."""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
# The alert rules and the crisis texts a clinic starts with (RULES_FILE and CRISIS_TEXTS_DIR set others).
DEFAULT_RULES_FILE = PROMPTS_DIR / "rules.yaml"
DEFAULT_CRISIS_TEXTS = PROMPTS_DIR / "crisis" / "replies"
# libyaml's loader (when PyYAML has it) reads YAML ten times faster than the pure-Python one: every
# command that answers in words loads the catalogs, and every start reads the questionnaires.
FAST_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{path}."))
        else:
            flat[path] = str(value)
    return flat


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


@cache
def _read_catalogs(files: tuple[tuple[Path, int], ...]) -> dict[str, dict[str, str]]:
    """Read once while the files stay as they are (by modification time): every application, alert desk
    and console loads the catalogs, and reading them takes some 40 ms."""
    return {
        path.stem: _flatten(yaml.load(path.read_text(encoding="utf-8"), Loader=FAST_YAML_LOADER)) for path, _ in files
    }


class Catalog:
    """All languages' messages, addressed by dotted keys such as ``checkin.closed``."""

    def __init__(self, messages: dict[str, dict[str, str]], default_language: str) -> None:
        if default_language not in messages:
            raise ValueError(f"no catalog for the default language {default_language!r}")
        self.messages = messages
        self.default_language = default_language

    @classmethod
    def load(cls, default_language: str, directory: Path = PROMPTS_DIR / "messages") -> Catalog:
        files = tuple((path, path.stat().st_mtime_ns) for path in sorted(directory.glob("*.yaml")))
        return cls(_read_catalogs(files), default_language)

    @property
    def languages(self) -> list[str]:
        return list(self.messages)

    def language_for(self, code: str | None) -> str:
        """The catalog to use for a Telegram language code such as ``es-MX``."""
        if code:
            base = code.split("-")[0].lower()
            if base in self.messages:
                return base
        return self.default_language

    def text(self, language: str, key: str, **values: object) -> str:
        catalog = self.messages.get(language, self.messages[self.default_language])
        template = catalog.get(key)
        if template is None:
            template = self.messages[self.default_language][key]
        return template.format(**values) if values else template

    def has(self, language: str, key: str) -> bool:
        return key in self.messages.get(language, {})
