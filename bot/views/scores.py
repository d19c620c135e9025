"""A patient's questionnaire scores in words, as /patient and the console's record list them."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from bot.diary import scores


def score_lines(t: Callable[..., str], answered: list[scores.Answered], zone: ZoneInfo) -> list[str]:
    """Newest first: "2026-11-07 PHQ-9: 12 (moderate), +6 since 2026-10-24", or "incomplete" when an
    item was skipped."""
    before = {(c.now.questionnaire, c.now.at): c.before for c in scores.changes(scores.scored(answered))}
    lines = []
    for found in reversed(answered):
        name, on, score = t(f"staff.instrument.{found.questionnaire}"), found.at.astimezone(zone).date(), found.score
        if score is None:
            lines.append(t("staff.score_incomplete", name=name, date=on.isoformat()))
            continue
        if score.band is None:
            line = t("staff.score_line_unbanded", name=name, date=on.isoformat(), total=score.shown)
        else:
            band = t(f"staff.band.{score.band}")
            line = t("staff.score_line", name=name, date=on.isoformat(), total=score.shown, band=band)
        previous = before.get((found.questionnaire, found.at))
        if previous is not None:
            since = previous.at.astimezone(zone).date().isoformat()
            line += t("staff.score_change", difference=f"{round(score.total - previous.total, 1):+g}", date=since)
        lines.append(line)
    return lines
