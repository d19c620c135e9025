"""A patient's schedule and questionnaire cadences in words: the answers of /schedule and
/questionnaires, and of `python -m bot schedule` and `questionnaires`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from zoneinfo import ZoneInfo

from bot.diary.schedule_rules import Rule, Slot


def slot_lines(slots: list[Slot], timezone: str) -> str:
    zone = ZoneInfo(timezone)
    return "\n".join(
        f"{s.fire_at.astimezone(zone):%a %Y-%m-%d %H:%M} {timezone} = {s.fire_at.astimezone(UTC):%H:%M} UTC"
        for s in slots
    )


def describe(
    context_text: Callable[..., str], code: str, rule: Rule, quiet: str | None, slots: list[Slot], clinic_quiet: str
) -> str:
    """The words /schedule and `python -m bot schedule` both answer with."""
    shown_quiet = quiet or context_text("admin.clinic_quiet_hours", hours=clinic_quiet or "–")
    return context_text(
        "admin.schedule", code=code, rule=rule.describe(), quiet=shown_quiet, slots=slot_lines(slots, rule.timezone)
    )


def cadence_lines(text: Callable[..., str], lines: list[tuple[str, int, bool]]) -> str:
    """The words /questionnaires and `python -m bot questionnaires` both answer with."""
    shown = []
    for name, days, own in lines:
        whose = text("admin.cadence_own" if own else "admin.cadence_clinic")
        key = "admin.cadence_line" if days else "admin.cadence_off"
        shown.append(text(key, name=name, days=days, whose=whose))
    return "\n".join(shown)
