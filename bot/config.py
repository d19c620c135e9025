"""All configuration, read once from the environment and `.env` (see .env.example)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.alerts.rules import DEFAULT_RULES_FILE, RulesError, load_rules
from bot.diary.schedule import format_times, parse_quiet_hours, parse_times, parse_zone
from bot.prompts import PROMPTS_DIR


class ConfigurationError(Exception):
    """One line naming the variable that is missing or malformed."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: str | None = None
    telegram_bot_username: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    database_url: str = "sqlite:///./data/diary.db"
    staff_chat_id: int | None = None
    admin_telegram_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    default_timezone: str = "UTC"
    default_language: str = "en"
    invite_valid_days: int = Field(default=7, ge=1, le=90)
    checkin_open_hours: int = Field(default=12, ge=1, le=48)
    default_checkin_times: str = "09:00"
    schedule_tick_seconds: float = Field(default=10, gt=0, le=60)
    send_grace_minutes: int = Field(default=120, ge=0)
    # Telegram allows about 30 messages/s to different chats; more only with paid broadcasts.
    messages_per_second: float = Field(default=29.0, gt=0, le=1000)
    reminder_after_minutes: int = Field(default=120, ge=0)  # 0: no reminders
    quiet_hours: str = "22:00-07:00"  # local hours in which no reminder is sent; empty: none
    rules_file: Path = DEFAULT_RULES_FILE  # alert rules; checked at start-up
    # run --webhook: Telegram POSTs updates to WEBHOOK_URL (https, behind your reverse proxy), which
    # forwards to WEBHOOK_LISTEN:WEBHOOK_PORT; every POST must carry WEBHOOK_SECRET.
    webhook_url: str | None = None
    webhook_secret: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{16,256}$")
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    # Retention: processed inbox rows (numbers and times only) and finished outbox rows are deleted
    # after this many days; 0 keeps them. Diary data is kept until discharge plus the clinic's policy.
    inbox_retention_days: int = Field(default=7, ge=0)
    outbox_retention_days: int = Field(default=30, ge=0)

    @field_validator("rules_file")
    @classmethod
    def _rules(cls, value: Path) -> Path:
        try:
            load_rules(value)
        except RulesError as error:
            raise ValueError(str(error)) from None
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

    @property
    def bot_api_url(self) -> str:
        return f"{self.telegram_api_base_url}/bot"


def load_settings(**overrides: object) -> Settings:
    """Settings, or ConfigurationError with one readable line (no traceback for a typo in .env)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "configuration"
        raise ConfigurationError(f"{name}: {first['msg']}") from None
