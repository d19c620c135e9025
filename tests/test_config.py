"""Configuration errors stop start-up with one line naming the variable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.config import ConfigurationError, load_settings
from tests.cli import OURS, run_cli


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEFAULT_TIMEZONE", "Mars/Olympus"),
        ("DEFAULT_LANGUAGE", "xx"),
        ("ADMIN_TELEGRAM_IDS", "12,abc"),
        ("STAFF_CHAT_ID", "the staff group"),
        ("INVITE_VALID_DAYS", "0"),
    ],
)
def test_malformed_value_is_named(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=f"^{variable}: "):
        load_settings(_env_file=None)


def test_admin_ids_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_TELEGRAM_IDS", "11, 22,33")
    assert load_settings(_env_file=None).admin_telegram_ids == [11, 22, 33]


def test_run_with_bad_setting_prints_one_line_and_exits_2() -> None:
    result = run_cli("run", DEFAULT_TIMEZONE="Mars/Olympus", TELEGRAM_BOT_TOKEN="1:x")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: configuration: DEFAULT_TIMEZONE: Value error, 'Mars/Olympus' is not an IANA time zone "
        "(for example Europe/Berlin)"
    ]


def test_run_without_token_says_so() -> None:
    result = run_cli("run")
    assert result.returncode == 2 and "TELEGRAM_BOT_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_a_broken_rules_file_stops_run_but_not_the_commands_that_do_not_use_it(tmp_path: Path) -> None:
    """`staff`, `audit`, `invite` and `schedule` read neither the rules nor the crisis texts, and start
    faster without checking them; `run` still stops on either, with the line to fix."""
    broken = tmp_path / "rules.yaml"
    broken.write_text("severe_pain: [\n", encoding="utf-8")
    files = {"RULES_FILE": str(broken), "CRISIS_TEXTS_DIR": str(tmp_path / "no-texts")}
    done = run_cli("staff", "list", DATABASE_URL=f"sqlite:///{tmp_path / 'diary.db'}", **files)
    assert (done.returncode, done.stdout) == (0, "no staff yet\n"), done.stderr
    done = run_cli("run", TELEGRAM_BOT_TOKEN="1:x", **files)
    assert done.returncode == 2 and f"RULES_FILE: Value error, {broken}: not valid YAML" in done.stderr
    done = run_cli("run", TELEGRAM_BOT_TOKEN="1:x", CRISIS_TEXTS_DIR=str(tmp_path / "no-texts"))
    assert done.returncode == 2 and "CRISIS_TEXTS_DIR: Value error" in done.stderr


def test_invite_command_prints_a_deep_link(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'diary.db'}"
    result = run_cli(
        "invite",
        "--code",
        "P-0012",
        "--tz",
        "Europe/Berlin",
        "--lang",
        "en",
        "--times",
        "20:00,09:00",
        DATABASE_URL=database_url,
        TELEGRAM_BOT_USERNAME="clinic_diary_bot",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("https://t.me/clinic_diary_bot?start=")
    token = result.stdout.strip().split("=", 1)[1]
    assert len(token) >= 22

    bad = run_cli(
        "invite",
        "--code",
        "P-0012",
        "--tz",
        "Berlin",
        DATABASE_URL=database_url,
        TELEGRAM_BOT_USERNAME="clinic_diary_bot",
    )
    assert bad.returncode == 2 and bad.stderr.strip() == (
        "error: 'Berlin' is not an IANA time zone: did you mean Europe/Berlin?"
    )


def test_the_env_file_is_read_beneath_the_environment_and_the_arguments(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`.env` in the working directory: names in any case, `export` and comments as shells write them,
    a name without a value unset; the environment wins over the file, `load_settings`' arguments over both."""
    for name in [name for name in os.environ if name.startswith(OURS)]:
        monkeypatch.delenv(name)
    (tmp_path / ".env").write_text(
        "# the clinic's settings\nstaff_chat_id=-42\nDEFAULT_LANGUAGE=es\nexport INVITE_VALID_DAYS=3\n"
        "TELEGRAM_BOT_USERNAME\nDATABASE_URL='sqlite:///./diary.db'  # beside the bot\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INVITE_VALID_DAYS", "5")
    settings = load_settings()
    assert (settings.staff_chat_id, settings.default_language, settings.invite_valid_days) == (-42, "es", 5)
    assert (settings.telegram_bot_username, settings.database_url) == (None, "sqlite:///./diary.db")
    assert load_settings(staff_chat_id=-7).staff_chat_id == -7
    assert load_settings(_env_file=None).staff_chat_id is None

    (tmp_path / ".env").write_text("INVITE_VALID_DAYS=91\n", encoding="utf-8")
    monkeypatch.delenv("INVITE_VALID_DAYS")
    with pytest.raises(ConfigurationError, match=r"^INVITE_VALID_DAYS: Input should be less than or equal to 90$"):
        load_settings()


def test_env_example_copied_as_it_is_starts_and_empty_optional_settings_are_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The README's first step copies .env.example to .env: its empty lines (`STAFF_CHAT_ID=`) leave those
    settings unset, while an empty QUIET_HOURS or INSTRUMENTS still means none."""
    for name in [name for name in os.environ if name.startswith(OURS)]:
        monkeypatch.delenv(name)
    example = Path(__file__).resolve().parent.parent / ".env.example"
    settings = load_settings(_env_file=example)
    assert (settings.staff_chat_id, settings.telegram_bot_token, settings.webhook_url) == (None, None, None)
    assert settings.quiet_hours == "22:00-07:00"

    (tmp_path / ".env").write_text("STAFF_CHAT_ID=\nQUIET_HOURS=\nINSTRUMENTS=\n", encoding="utf-8")
    settings = load_settings(_env_file=tmp_path / ".env")
    assert (settings.staff_chat_id, settings.quiet_hours, settings.instruments) == (None, "", "")
    monkeypatch.setenv("STAFF_CHAT_ID", " ")
    assert load_settings(_env_file=None).staff_chat_id is None
