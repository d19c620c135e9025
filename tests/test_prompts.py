"""Every language says everything, with the same placeholders; every option has a label."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.diary.questionnaire import Questionnaire, Questionnaires
from bot.prompts import PROMPTS_DIR, Catalog, placeholders

CATALOG = Catalog.load("en")
QUESTIONNAIRES = Questionnaires.load()
QUESTIONNAIRE = QUESTIONNAIRES.daily
LANGUAGES = CATALOG.languages


def test_english_and_spanish_are_available() -> None:
    assert {"en", "es"} <= set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_key_with_the_same_placeholders(language: str) -> None:
    reference, other = CATALOG.messages["en"], CATALOG.messages[language]
    assert set(other) == set(reference), (
        f"{language}: missing {set(reference) - set(other)}, extra {set(other) - set(reference)}"
    )
    for key, text in reference.items():
        assert placeholders(other[key]) == placeholders(text), f"{language}: {key}"
        assert other[key].strip(), f"{language}: {key} is empty"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("questionnaire", list(QUESTIONNAIRES.values()), ids=list(QUESTIONNAIRES))
def test_every_item_and_option_has_words(language: str, questionnaire: Questionnaire) -> None:
    if questionnaire.id != "daily":
        assert CATALOG.has(language, f"questionnaires.{questionnaire.id}.header")
        assert CATALOG.has(language, f"questionnaires.{questionnaire.id}.intro")
    for item in questionnaire.items:
        assert CATALOG.has(language, f"items.{item.id}.label")
        assert CATALOG.has(language, f"items.{item.id}.question")
        if item.type == "choice" or item.id == "mood":
            for code in item.options:
                key = f"scales.{item.scale}.{code}" if item.scale else f"items.{item.id}.options.{code}"
                assert CATALOG.has(language, key), f"{language}: {item.id}.{code}"


def test_questionnaire_matches_the_diary_format() -> None:
    items = {item.id: item for item in QUESTIONNAIRE.items}
    assert list(items) == ["pain", "skin_color", "skin_temperature", "swelling", "mood", "note"]
    assert items["pain"].options == tuple(str(n) for n in range(11)) and items["pain"].loinc == "72514-3"
    assert items["skin_color"].options == ("same", "redder", "blue_purple", "paler", "blotchy", "cant_tell")
    assert items["skin_color"].legacy == ("normal", "red", "pale", "mottled"), "earlier answers stay readable"
    assert items["skin_temperature"].options == ("same", "warmer", "colder")
    assert items["swelling"].options == ("none", "mild", "marked")
    assert items["mood"].options == ("1", "2", "3", "4", "5")
    assert items["note"].type == "text"


def test_every_key_the_code_uses_exists() -> None:
    """Keys written as literals in the bot's code must be in the catalogs (no sentence lives in Python)."""
    root = Path(__file__).resolve().parent.parent / "bot"
    used: set[str] = set()
    for path in root.rglob("*.py"):
        used |= set(re.findall(r'text\([^)]*?"([a-z_]+(?:\.[a-z_]+)+|[a-z_]+)"', path.read_text()))
    used = {key for key in used if not key.startswith(("items.", "chart.", "commands."))}
    assert used, "the scan found the keys"
    missing = {key for key in used if not CATALOG.has("en", key)}
    assert not missing


def test_prompts_folder_is_data_only() -> None:
    assert not list(PROMPTS_DIR.rglob("*.py"))
