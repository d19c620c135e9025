"""The alert rules file (prompts/rules.yaml): every threshold, window and tier, validated at start-up.

Defaults follow CLINICAL.md. A clinic changes them by editing the file (or passing another one to
`python -m bot replay --rules`) and replaying its history first to see how many alerts they give.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.diary.schedule_rules import parse_times
from bot.prompts import DEFAULT_RULES_FILE

log = logging.getLogger(__name__)

# Settings earlier versions of the rules file had, and what replaced them: a clinic's own file written
# for an earlier version still starts (with a warning naming each one) instead of stopping the bot.
RETIRED = {
    ("pain_worsening", "signs_needed"): "the skin signs are weighed as evidence (alarm_threshold_with_signs)",
    ("pain_worsening", "signs_within"): "the skin signs are weighed as evidence (alarm_threshold_with_signs)",
    ("vasomotor_change", "span_hours"): "a run covers `days` days",
    ("swelling_new", "span_hours"): "a run covers `days` days",
}


class Tier(StrEnum):
    URGENT = "urgent"  # a card at once, re-sent to each admin until someone acknowledges it
    AMBER = "amber"  # a card at once in the staff chat
    DIGEST = "digest"  # a line in the next daily digest


class RulesError(Exception):
    """One line naming the file and the setting that is wrong."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    enabled: bool = True
    tier: Tier


class SignShares(_Strict):
    """The shares of skin answers assumed to report a change in a flare and in a calm spell (the
    patient's own share replaces the calm one when higher): how much a changed answer weighs."""

    flare_sign_share: float = Field(default=0.35, gt=0, lt=1)
    calm_sign_share: float = Field(default=0.05, gt=0, lt=1)


class PainWorsening(Rule, SignShares):
    """Two one-sided CUSUMs above the patient's own baseline: pain alone, in units of their own spread;
    pain with the skin signs of a flare, in units of evidence (see bot/alerts/skin_signs.py)."""

    tier: Tier = Tier.AMBER
    baseline_days: int = Field(default=28, ge=7, le=90)
    baseline_min_days: int = Field(default=14, ge=1, le=90)
    baseline_min_entries: int = Field(default=8, ge=3)
    min_rise_points: float = Field(default=2.0, gt=0, le=10)
    min_rise_fraction: float = Field(default=0.3, ge=0, le=2)
    # A patient whose scores hardly vary still gets at least this spread (points): one odd score
    # must not look like many standard deviations.
    spread_floor: float = Field(default=0.75, gt=0, le=5)
    # The pain-alone CUSUM's decision interval, in the patient's spreads: larger waits for more evidence.
    alarm_threshold: float = Field(default=6.0, gt=0, le=50)
    # How many standard errors of the usual level are added to the rise looked for: a usual measured
    # on two weeks of a wandering diary is itself uncertain by about a point.
    usual_uncertainty: float = Field(default=1.5, ge=0, le=5)
    # Evidence counts per day: a check-in's share of it is divided by the check-ins a day to this power
    # (0: per check-in; 0.5: a day of two check-ins weighs what a day of one does; 1: half of that).
    per_day_power: float = Field(default=1.0, ge=0, le=2)
    # Whether a check-in with a note (its words are never read for this) adds `note_weight` spreads to
    # the pain-alone sum when its pain is above the usual, and its evidence to the sum with the signs.
    note_counts: bool = True
    note_weight: float = Field(default=3.0, ge=0, le=50)
    # The sum with the signs: each skin answer's evidence (see bot/alerts/skin_signs.py), a note's, and
    # `pain_weight_with_signs` of the pain's spreads above the rise's midpoint. It fires at
    # `alarm_threshold_with_signs` when the pain since it began averages `pain_rise_with_signs` of the
    # rise above the usual: signs with no more pain are the sign rules' to report, not this one's.
    alarm_threshold_with_signs: float = Field(default=4.0, gt=0, le=50)
    pain_weight_with_signs: float = Field(default=0.5, ge=0, le=10)
    pain_rise_with_signs: float = Field(default=0.25, ge=0, le=2)
    note_evidence: float = Field(default=1.6, ge=0, le=10)


class Consecutive(Rule):
    consecutive: int = Field(ge=1, le=30)


class SeverePain(Consecutive):
    tier: Tier = Tier.AMBER
    at_least: int = Field(default=9, ge=0, le=10)
    consecutive: int = Field(default=4, ge=1, le=30)
    # For a patient whose usual pain is within this of `at_least`, the run must be this far above their
    # usual instead (0: `at_least` for everyone). The usual: the median of the days before.
    above_usual: float = Field(default=3.0, ge=0, le=10)
    baseline_days: int = Field(default=28, ge=7, le=90)
    baseline_min_entries: int = Field(default=8, ge=3)
    # The run must also cover this many days: at two check-ins a day, four are two days, a bad spell
    # of a wandering diary; three days are rarer (1: `consecutive` alone).
    days: int = Field(default=3, ge=1, le=30)


class NewSign(Consecutive, SignShares):
    """A new change of the limb's skin: seen on `consecutive` check-ins in a row covering `days` days,
    or adding up to `evidence` with the other skin answers (see bot/alerts/skin_signs.py) and seen on
    `seen_on` of those check-ins; after `calm_before` check-ins without it."""

    tier: Tier = Tier.AMBER
    consecutive: int = Field(default=3, ge=1, le=30)
    # So that a run means the same at one check-in a day as at two: a morning and an evening of one
    # day are one day's answers; an evening and the next morning are two days. 1: `consecutive` alone.
    days: int = Field(default=2, ge=1, le=30)
    calm_before: int = Field(default=5, ge=0, le=60)
    evidence: float = Field(default=5.0, gt=0, le=50)
    seen_on: int = Field(default=2, ge=1, le=30)
    # The days of the patient's own answers their calm share is measured on.
    own_share_days: int = Field(default=28, ge=7, le=365)


class LowMood(Consecutive):
    """Mood below the patient's own usual (daily diary), or a PHQ-9 at or above a threshold or risen."""

    tier: Tier = Tier.AMBER
    at_most: int = Field(default=2, ge=1, le=5)
    consecutive: int = Field(default=3, ge=1, le=30)
    drop: float = Field(default=1.0, ge=0, le=4)  # points below the median of the patient's own moods
    baseline_days: int = Field(default=28, ge=7, le=90)
    baseline_min_entries: int = Field(default=8, ge=3)
    phq9_at_least: int = Field(default=10, ge=1, le=27)  # moderate depression and above
    phq9_rise: int = Field(default=5, ge=1, le=27)  # the published clinically meaningful change
    # PHQ-9s in a row that must show the rise: one score 5 above the lowest of several is often noise.
    phq9_rise_confirmed: int = Field(default=2, ge=1, le=10)
    # After a finding, no new one for this long: a patient whose mood is always low is not re-alerted.
    refractory_days: int = Field(default=28, ge=0, le=365)
    # A PHQ-9 reaching `phq9_at_least` is news only when none in this many days before it did: a
    # patient who hovers about 10 re-crosses it every few screens (0: whenever the one before was lower).
    phq9_recross_days: int = Field(default=84, ge=0, le=730)
    # The drop below the usual mood needed when the usual is itself at most `at_most` (a chronically low
    # mood): on a 1-5 scale a drop from 2 is a 1, often noise at the floor of the scale.
    drop_when_usual_low: float = Field(default=2.0, ge=0, le=4)


class MissedCheckins(Consecutive):
    tier: Tier = Tier.DIGEST
    consecutive: int = Field(default=3, ge=1, le=60)
    # The run must also be one that comes by chance less than once in `rarer_than` check-ins, at the
    # share of check-ins the patient left unanswered in this many days before it (0: `consecutive` alone).
    usual_gap_days: int = Field(default=56, ge=0, le=365)
    rarer_than: float = Field(default=1000, ge=1)
    # A silence this many days long is reported whatever the patient's usual gaps.
    always_after_days: int = Field(default=7, ge=1, le=365)


class ReliefWaning(Rule):
    tier: Tier = Tier.AMBER
    before_days: int = Field(default=14, ge=3, le=60)  # the pain level an infusion is measured against
    after_days: int = Field(default=84, ge=7, le=365)  # how long after an infusion relief is followed
    # Earlier, a few noisy scores look like relief lost; relief lasting under two weeks would be unusual.
    not_before_days: int = Field(default=14, ge=0, le=365)
    min_relief_fraction: float = Field(default=0.3, gt=0, le=1)
    regained_fraction: float = Field(default=0.7, gt=0, le=1)
    recent_entries: int = Field(default=3, ge=1, le=14)


class CrisisText(Rule):
    tier: Tier = Tier.URGENT


class ContactRequest(Rule):
    """The patient pressed "Please contact me" or sent /callme."""

    tier: Tier = Tier.AMBER


class Escalation(_Strict):
    after_minutes: int = Field(default=15, ge=1, le=1440)
    every_minutes: int = Field(default=15, ge=1, le=1440)
    max_times: int = Field(default=4, ge=0, le=100)
    # A crisis nobody has seen must not go quiet until the digest: after max_times, it goes on this often.
    then_every_minutes: int = Field(default=60, ge=1, le=1440)


class Digest(_Strict):
    time: str = "08:00"  # in the clinic's zone (DEFAULT_TIMEZONE)
    open_longer_than_hours: int = Field(default=48, ge=1)

    @field_validator("time")
    @classmethod
    def _one_time(cls, value: str) -> str:
        times = parse_times(value)
        if len(times) != 1:
            raise ValueError("one time of day, such as 08:00")
        return value


class Rules(_Strict):
    pain_worsening: PainWorsening = PainWorsening()
    severe_pain: SeverePain = SeverePain()
    vasomotor_change: NewSign = NewSign()
    swelling_new: NewSign = NewSign()
    low_mood: LowMood = LowMood()
    missed_checkins: MissedCheckins = MissedCheckins()
    relief_waning: ReliefWaning = ReliefWaning()
    crisis_text: CrisisText = CrisisText()
    contact_request: ContactRequest = ContactRequest()
    escalation: Escalation = Escalation()
    digest: Digest = Digest()

    def tier(self, rule: str) -> Tier:
        config = getattr(self, rule)
        assert isinstance(config, Rule)
        return config.tier


RULE_NAMES = tuple(name for name, field in Rules.model_fields.items() if issubclass(field.annotation, Rule))  # type: ignore[arg-type]


def parse_rules(data: Any, *, source: str, text: str | None = None) -> Rules:
    """Rules from parsed YAML; with the file's `text`, an error also names the line of the setting."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RulesError(f"{source}: expected a mapping of rule names to settings")
    try:
        return Rules.model_validate(_without_retired(data, source=source))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        line = _line_of(text, first["loc"]) if text is not None else None
        at = f", line {line}" if line is not None else ""
        raise RulesError(f"{source}{at}: {where}: {first['msg']}") from None


_warned: set[tuple[str, str, str]] = set()  # (source, rule, setting): the file is read more than once


def _without_retired(data: dict[Any, Any], *, source: str) -> dict[Any, Any]:
    kept = dict(data)
    for (rule, setting), instead in RETIRED.items():
        settings = kept.get(rule)
        if isinstance(settings, dict) and setting in settings:
            kept[rule] = {k: v for k, v in settings.items() if k != setting}
            if (source, rule, setting) not in _warned:
                _warned.add((source, rule, setting))
                log.warning("%s: %s.%s is no longer used (%s): ignored; remove it", source, rule, setting, instead)
    return kept


def _line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """The line (from 1) of the deepest key of `loc` found in the YAML text: where to look for a setting
    pydantic refused."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if not isinstance(node, yaml.MappingNode):
            break
        found = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)), None)
        if found is None:
            break
        line, node = found[0].start_mark.line + 1, found[1]
    return line


def read_rules(text: str, *, source: str) -> Rules:
    """Rules from a rules file's text, as the bot loads them at start-up and the console checks an edit.
    RulesError names the source, the line and the setting."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise RulesError(f"{source}: not valid YAML{at} ({problem})") from None
    except RecursionError:  # the reader follows nested lists and mappings by recursion: "[[[[..." stops it
        raise RulesError(f"{source}: not valid YAML (nested too deeply)") from None
    return parse_rules(data, source=source, text=text)


def load_rules(path: Path = DEFAULT_RULES_FILE) -> Rules:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RulesError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise RulesError(f"{path}: not UTF-8 text") from None
    return read_rules(text, source=str(path))
