"""Crisis phrases (prompts/crisis/<language>.yaml), matched on whole words, ignoring case and accents."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.prompts import PROMPTS_DIR

# Zero-width characters would otherwise split a word and hide a phrase.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def normalise(text: str) -> str:
    """Lower case, no accents, no invisible characters, apostrophes unified."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_INVISIBLE))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.replace("\u2019", "'").casefold()


@dataclass(frozen=True)
class CrisisPhrases:
    pattern: re.Pattern[str] | None

    @classmethod
    def load(cls, directory: Path = PROMPTS_DIR / "crisis") -> CrisisPhrases:
        phrases: list[str] = []
        for path in sorted(directory.glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            phrases += [str(p) for p in data.get("phrases", []) if str(p).strip()]
        return cls.of(phrases)

    @classmethod
    def of(cls, phrases: list[str]) -> CrisisPhrases:
        if not phrases:
            return cls(None)
        alternatives = sorted({r"\s+".join(map(re.escape, normalise(p).split())) for p in phrases}, key=len)
        return cls(re.compile(r"(?<!\w)(?:" + "|".join(reversed(alternatives)) + r")(?!\w)"))

    def matches(self, text: str) -> bool:
        return self.pattern is not None and self.pattern.search(normalise(text)) is not None
