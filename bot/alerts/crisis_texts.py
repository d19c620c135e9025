"""The clinic's crisis text: what a patient who writes of suicide or self-harm is told at once.

The emergency number, the crisis line and the wording belong to the clinic, per language and country:
prompts/crisis/replies/<language>.yaml holds a `default` text for patients of any country and, under
`countries`, texts for particular ones (ISO 3166 codes). A patient's country is the one their invite
named, or else the country of their time zone; a patient in Berlin is never given a number in the US.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from bot.care_team.text_limits import TEXT_LIMIT, units
from bot.diary.places import countries
from bot.prompts import DEFAULT_CRISIS_TEXTS


class CrisisTextError(ValueError):
    """One line naming the file and what is missing or wrong."""


@dataclass(frozen=True)
class CrisisTexts:
    by_language: dict[str, tuple[str, dict[str, str]]]  # language -> (default, country -> text)

    @classmethod
    def load(cls, directory: Path = DEFAULT_CRISIS_TEXTS) -> CrisisTexts:
        """Read once while the files stay as they are (their times and sizes): the settings check them, and
        every application loads them."""
        return _read(tuple(_stamped(path) for path in sorted(directory.glob("*.yaml"))))

    @classmethod
    def read(cls, paths: Iterable[Path]) -> CrisisTexts:
        texts: dict[str, tuple[str, dict[str, str]]] = {}
        for path in paths:
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError) as error:
                raise CrisisTextError(f"{path}: cannot be read ({str(error).splitlines()[0]})") from None
            if not isinstance(data, dict):
                raise CrisisTextError(f"{path}: expected `default:` and `countries:`")
            default = str(data.get("default") or "").strip()
            if not default:
                raise CrisisTextError(f"{path}: no `default` crisis text (for patients of any country)")
            _fits(path, "default", default)
            by_country = data.get("countries") or {}
            if not isinstance(by_country, dict):
                raise CrisisTextError(f"{path}: `countries` must map country codes to texts")
            known = countries()
            for code, text in by_country.items():
                if str(code) not in known:
                    raise CrisisTextError(f"{path}: countries.{code}: not a two-letter country code such as DE")
                if not str(text or "").strip():
                    raise CrisisTextError(f"{path}: countries.{code}: the text is empty")
                _fits(path, f"countries.{code}", str(text).strip())
            texts[path.stem] = (default, {str(code): str(text).strip() for code, text in by_country.items()})
        return cls(texts)

    def missing(self, languages: list[str]) -> list[str]:
        """Languages the clinic serves that have no crisis text."""
        return [language for language in languages if language not in self.by_language]

    def text(self, language: str, country: str | None) -> str:
        """The text for this language and country, else the language's default."""
        default, by_country = self.by_language[language]
        return by_country.get(country or "", default)


def _fits(path: Path, where: str, text: str) -> None:
    """The text goes to the patient as one message: longer than Telegram takes, every crisis text would be refused."""
    if units(text) > TEXT_LIMIT:
        raise CrisisTextError(
            f"{path}: {where}: {units(text)} characters, more than a Telegram message holds ({TEXT_LIMIT}); shorten it"
        )


def _stamped(path: Path) -> tuple[Path, int, int]:
    try:
        found = path.stat()
    except OSError:  # gone meanwhile: reading it says so
        return path, -1, -1
    return path, found.st_mtime_ns, found.st_size


@cache
def _read(files: tuple[tuple[Path, int, int], ...]) -> CrisisTexts:
    return CrisisTexts.read(path for path, _, _ in files)
