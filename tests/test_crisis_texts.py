"""The clinic's crisis text per language and country; the diary does not start without one for every
language it speaks, and a patient in Berlin is never given a US number."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.alerts.crisis_texts import CrisisTextError, CrisisTexts
from bot.config import ConfigurationError, load_settings
from bot.diary.places import country_of_zone, parse_country

TEXTS = CrisisTexts.load()


def test_country_comes_from_the_time_zone_table() -> None:
    assert country_of_zone("Europe/Berlin") == "DE"
    assert country_of_zone("America/Bogota") == "CO"
    assert country_of_zone("UTC") is None
    assert parse_country("de") == "DE"
    with pytest.raises(ValueError, match="not a two-letter country code"):
        parse_country("XX")


def test_each_country_gets_its_own_numbers_and_others_the_default() -> None:
    berlin, us = TEXTS.text("en", "DE"), TEXTS.text("en", "US")
    assert "112" in berlin and "988" not in berlin and "911" not in berlin
    assert "988" in us
    assert "024" in TEXTS.text("es", "ES")
    fallback = TEXTS.text("en", "JP")
    assert fallback == TEXTS.text("en", None) and "local emergency number" in fallback
    assert not any(number in fallback for number in ("112", "911", "988", "999"))


def test_a_text_file_without_a_default_or_with_a_bad_country_is_refused(tmp_path: Path) -> None:
    (tmp_path / "en.yaml").write_text("countries:\n  DE: Ruf 112 an.\n", encoding="utf-8")
    with pytest.raises(CrisisTextError, match=r"en\.yaml: no `default`"):
        CrisisTexts.load(tmp_path)
    (tmp_path / "en.yaml").write_text("default: Call for help.\ncountries:\n  XY: Call 1.\n", encoding="utf-8")
    with pytest.raises(CrisisTextError, match=r"countries\.XY"):
        CrisisTexts.load(tmp_path)


def test_a_text_longer_than_one_telegram_message_is_refused(tmp_path: Path) -> None:
    """Telegram refuses a message over 4,096 units: a clinic listing every line it knows would have had each
    crisis text refused, and no patient in crisis told anything by the bot. Refused when read, naming where."""
    lines = "".join(f"Line {n}: call 0800 111 0{n:03} 📞\n" for n in range(150))  # 📞 counts twice
    (tmp_path / "en.yaml").write_text(
        yaml.safe_dump({"default": "Call 112.", "countries": {"DE": lines}}, allow_unicode=True), encoding="utf-8"
    )
    with pytest.raises(CrisisTextError, match=r"en\.yaml: countries\.DE: .*4096"):
        CrisisTexts.load(tmp_path)
    (tmp_path / "en.yaml").write_text(yaml.safe_dump({"default": "Call 112. " * 410}), encoding="utf-8")
    with pytest.raises(CrisisTextError, match=r"en\.yaml: default: .*4096"):
        CrisisTexts.load(tmp_path)


def test_settings_refuse_a_language_without_crisis_text(tmp_path: Path) -> None:
    (tmp_path / "en.yaml").write_text("default: Call your local emergency number.\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"^CRISIS_TEXTS_DIR: .*no crisis text for es"):
        load_settings(_env_file=None, crisis_texts_dir=tmp_path)


def test_the_texts_are_read_again_when_a_file_changes(tmp_path: Path) -> None:
    (tmp_path / "en.yaml").write_text("default: Call for help.\n", encoding="utf-8")
    first = CrisisTexts.load(tmp_path)
    assert CrisisTexts.load(tmp_path) is first, "read once while the files stay as they are"
    (tmp_path / "en.yaml").write_text("default: Call 112 for help.\n", encoding="utf-8")
    assert CrisisTexts.load(tmp_path).text("en", None) == "Call 112 for help."
    (tmp_path / "es.yaml").write_text("default: Llame al 112.\n", encoding="utf-8")
    assert CrisisTexts.load(tmp_path).text("es", None) == "Llame al 112."
