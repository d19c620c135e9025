"""All configuration, read once from the environment and `.env` (see .env.example).

The values are read here (`read_values`) and checked by pydantic, which the database layer imports
anyway: a settings library would add its own import to every command's start (bench/cli_startup.py).
A variable's name is matched whatever its case; the environment wins over `.env`, and the arguments
given to `load_settings` over both.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, ValidationInfo, field_validator

from bot.diary.schedule_rules import format_times, parse_quiet_hours, parse_times, parse_zone
from bot.prompts import DEFAULT_CRISIS_TEXTS, DEFAULT_RULES_FILE, PROMPTS_DIR


class ConfigurationError(Exception):
    """One line naming the variable that is missing or malformed."""


# The file of variables read beside the environment, from the working directory.
ENV_FILE = ".env"


class Settings(BaseModel):
    # The defaults are checked too: a missing rules file or crisis text stops the bot's start whether or
    # not its variable is set (commands that use neither skip the check: load_settings).
    model_config = ConfigDict(extra="ignore", validate_default=True)

    telegram_bot_token: SecretStr | None = None  # never printed: repr and logs show ********
    telegram_bot_username: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    database_url: str = "sqlite:///./data/diary.db"
    # The staff chat until an admin sends /staffchat in a group (stored; then that one wins). Optional:
    # without any, what staff are owed waits in the outbox for one (bot/care_team/staff_chat.py).
    staff_chat_id: int | None = None
    admin_telegram_ids: list[int] = Field(default_factory=list)
    default_timezone: str = "UTC"
    default_language: str = "en"
    invite_valid_days: int = Field(default=7, ge=1, le=90)
    # The clinic's patient codes (a regular expression): /invite refuses anything else, e.g. "p12".
    patient_code_format: str = r"[A-Z]{1,4}-[0-9]{1,6}"
    # Whether an invite still works after someone pressed "No, thank you" on its consent screen.
    invite_usable_after_decline: bool = False
    # After a re-link moves a record to another Telegram account (or a link brings an imported diary to its first
    # account), that account's /export and /delete wait
    # this long (0: not at all), and its /history shows only what was answered there: a link that reached
    # the wrong hands cannot take the diary away, read it or erase it before the patient and staff, both
    # told of the move, can give it back. 72 hours spans a weekend.
    relink_hold_hours: int = Field(default=72, ge=0, le=720)
    checkin_open_hours: int = Field(default=12, ge=1, le=48)
    # Questionnaires offered beside the daily diary on their own cadence (prompts/questionnaires/), comma
    # separated; empty: none. The PHQ-9 is not listed: it follows a positive PHQ-2 the same day.
    instruments: str = "phq2,interference,crps"
    default_checkin_times: str = "09:00"
    schedule_tick_seconds: float = Field(default=10, gt=0, le=60)
    send_grace_minutes: int = Field(default=120, ge=0)
    # Telegram allows about 30 messages/s to different chats; more only with paid broadcasts.
    messages_per_second: float = Field(default=29.0, gt=0, le=1000)
    # Telegram's limits per chat: about one message a second to a person (short bursts allowed) and
    # twenty a minute to a group. Only a self-hosted Bot API server without them warrants more.
    chat_messages_per_second: float = Field(default=1.0, gt=0, le=1000)
    group_messages_per_minute: float = Field(default=20.0, gt=0, le=60000)
    reminder_after_minutes: int = Field(default=120, ge=0)  # 0: no reminders
    quiet_hours: str = "22:00-07:00"  # local hours in which no reminder is sent; empty: none
    rules_file: Path = DEFAULT_RULES_FILE  # alert rules; checked at start-up
    # The clinic's crisis texts per language and country; every language the diary speaks needs one.
    crisis_texts_dir: Path = DEFAULT_CRISIS_TEXTS
    # When staff acknowledge a patient's message, the patient is told that their care team has seen it.
    tell_patient_seen: bool = True
    # Staff replies reach the patient as "Your care team: ..."; with this on, with the staff member's name.
    staff_names_to_patients: bool = False
    # A message being sent by a process that died is sent again once this long has passed.
    outbox_lease_seconds: float = Field(default=30, ge=1, le=3600)
    # How often the sender looks for messages nobody woke it for: queued by another process (the console,
    # the command line), or due after a wait.
    outbox_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    # Writing down how a send went, met by the database away (SQLite locked, PostgreSQL restarting), is tried again
    # after this long, then after twice as long each time, up to eight times this between tries.
    outbox_retry_seconds: float = Field(default=0.25, gt=0, le=10)
    # An update whose handling met the database or Telegram away is tried again after this long, then after
    # twice as long each time, up to 30 s between tries.
    inbox_retry_seconds: float = Field(default=1.0, gt=0, le=30)
    # run --webhook: Telegram POSTs updates to WEBHOOK_URL (https, behind your reverse proxy), which
    # forwards to WEBHOOK_LISTEN:WEBHOOK_PORT; every POST must carry WEBHOOK_SECRET.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    # Retention: processed inbox rows (numbers and times only) and finished outbox rows are deleted
    # after this many days; 0 keeps them. Diary data is kept until discharge plus the clinic's policy.
    inbox_retention_days: int = Field(default=7, ge=0)
    outbox_retention_days: int = Field(default=30, ge=0)
    # The web console: CONSOLE_URL is the address staff open (https behind the reverse proxy; its path,
    # e.g. /console, is where the console serves), CONSOLE_LISTEN the host:port the proxy forwards to.
    # `run` serves the console too when CONSOLE_LISTEN is set; `console` serves it alone.
    console_url: str | None = None
    console_listen: str | None = None
    # Prometheus metrics (GET /metrics, and /healthz) on this host:port; unset: none. Loopback or the
    # monitoring network only: the numbers say how busy the clinic is.
    metrics_listen: str | None = None

    @field_validator("rules_file")
    @classmethod
    def _rules(cls, value: Path, info: ValidationInfo) -> Path:
        if not _checking_alert_files(info):
            return value
        from bot.alerts.rules import RulesError, load_rules

        try:
            load_rules(value)
        except RulesError as error:
            raise ValueError(str(error)) from None
        return value

    @field_validator("crisis_texts_dir")
    @classmethod
    def _crisis_texts(cls, value: Path, info: ValidationInfo) -> Path:
        if not _checking_alert_files(info):
            return value
        from bot.alerts.crisis_texts import CrisisTextError, CrisisTexts

        try:
            texts = CrisisTexts.load(value)
        except CrisisTextError as error:
            raise ValueError(str(error)) from None
        missing = texts.missing(catalog_languages())
        if missing:
            raise ValueError(
                f"no crisis text for {', '.join(missing)}: write {value}/{missing[0]}.yaml (a `default` text, "
                "and `countries` with the emergency number and crisis line of each country you serve)"
            )
        return value

    @field_validator("instruments")
    @classmethod
    def _instruments(cls, value: str) -> str:
        parse_instruments(value)
        return ",".join(word.strip() for word in value.split(",") if word.strip())

    @field_validator("webhook_secret")
    @classmethod
    def _secret_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", value.get_secret_value()):
            raise ValueError("16-256 characters of A-Z a-z 0-9 _ - (Telegram's rule for secret tokens)")
        return value

    @field_validator("patient_code_format")
    @classmethod
    def _code_format(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"not a regular expression ({error})") from None
        return value

    @field_validator("admin_telegram_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return parse_zone(value)

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not (PROMPTS_DIR / "messages" / f"{value}.yaml").is_file():
            raise ValueError(f"no message catalog prompts/messages/{value}.yaml")
        return value

    @field_validator("default_checkin_times")
    @classmethod
    def _times(cls, value: str) -> str:
        return format_times(parse_times(value))

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str) -> str:
        if value:
            parse_quiet_hours(value)
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("webhook_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("must be an https:// URL (Telegram only calls https webhooks)")
        return value or None

    @field_validator("console_url")
    @classmethod
    def _console_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("must be an https:// URL (sign-in cookies are only safe over https)")
        if value and ("?" in value or "#" in value):
            raise ValueError("write the console's address without ? or #, e.g. https://clinic.example/console")
        return value.rstrip("/") if value else None

    @field_validator("console_listen", "metrics_listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        if not value:
            return None
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError("write host:port, e.g. 127.0.0.1:8081")
        return value

    @property
    def console_address(self) -> tuple[str, int] | None:
        """CONSOLE_LISTEN as (host, port); None: no console."""
        return _address(self.console_listen)

    @property
    def metrics_address(self) -> tuple[str, int] | None:
        """METRICS_LISTEN as (host, port); None: no metrics endpoint."""
        return _address(self.metrics_listen)

    @property
    def bot_api_url(self) -> str:
        return f"{self.telegram_api_base_url}/bot"

    @property
    def instrument_cadences(self) -> dict[str, int]:
        """The questionnaires the clinic offers beside the daily diary, in order, with days between offers."""
        return parse_instruments(self.instruments)

    @property
    def token(self) -> str:
        """The bot token itself, for the one place that talks to Telegram with it."""
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else ""

    @property
    def secrets(self) -> list[str]:
        """What must never appear in a log line."""
        return [s.get_secret_value() for s in (self.telegram_bot_token, self.webhook_secret) if s is not None]


def _checking_alert_files(info: ValidationInfo) -> bool:
    return bool((info.context or {}).get("check_alert_files", True))


def catalog_languages() -> list[str]:
    """The languages the diary speaks, one catalog in prompts/messages each, found without reading them."""
    return sorted(path.stem for path in (PROMPTS_DIR / "messages").glob("*.yaml"))


def _address(listen: str | None) -> tuple[str, int] | None:
    if listen is None:
        return None
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


def read_values(env_file: str | Path | None = ENV_FILE) -> dict[str, str]:
    """The settings' variables as written: `env_file`'s (if there is one), then the environment's over
    them, keyed by field name whatever the case they were written in. A line of `env_file` with a
    name and no value counts as unset, and so does an empty value of an optional setting."""
    written: list[tuple[str, str | None]] = []
    path = None if env_file is None else Path(env_file).expanduser()
    if path is not None and (path.is_file() or path.is_fifo()):  # a pipe too, as secret managers give
        from dotenv import dotenv_values  # only with a file to read

        written += dotenv_values(path, encoding="utf-8").items()
    written += os.environ.items()
    fields = Settings.model_fields
    return {
        key.lower(): value
        for key, value in written
        if key.lower() in fields
        and value is not None
        # An optional setting written empty (`STAFF_CHAT_ID=`, as .env.example has it) is not set; an empty
        # QUIET_HOURS or INSTRUMENTS still means none.
        and (value.strip() or fields[key.lower()].default is not None)
    }


def load_settings(
    _env_file: str | Path | None = ENV_FILE, *, check_alert_files: bool = True, **overrides: object
) -> Settings:
    """Settings from `_env_file` (None: none), the environment and `overrides`, or ConfigurationError
    with one readable line (no traceback for a typo in .env). Without `check_alert_files`, the rules
    file and the crisis texts are not read: for commands that use neither."""
    try:
        context = {"check_alert_files": check_alert_files}
        return Settings.model_validate(read_values(_env_file) | overrides, context=context)
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "configuration"
        raise ConfigurationError(f"{name}: {first['msg']}") from None


def parse_instruments(value: str) -> dict[str, int]:
    """INSTRUMENTS: `phq2,interference=7,crps=28`; a name alone takes the questionnaire's own cadence."""
    from bot.diary.questionnaire import Questionnaires  # only when configured: the command line stays light

    offered = {q.id: q.every_days for q in Questionnaires.load().values() if q.every_days}
    chosen: dict[str, int] = {}
    for word in (w.strip() for w in value.split(",") if w.strip()):
        name, _, written = (part.strip() for part in word.partition("="))
        if name not in offered:
            raise ValueError(f"unknown questionnaire {name!r}; known: {', '.join(sorted(offered))}")
        days = written.removesuffix("d")
        if written and not (days.isdigit() and 1 <= int(days) <= 365):
            raise ValueError(f"{word!r}: write the days between offers as a number from 1 to 365, e.g. {name}=14")
        chosen[name] = int(days) if written else offered[name]
    return chosen
