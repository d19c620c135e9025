"""The trend rules: pure functions of a patient's entries, infusions and rules.

Each rule walks the diary in time order and reports a Finding at the entry where its condition
*starts* to hold (a run reaching its length, a detector crossing its threshold). A condition that
goes on holding reports nothing new, so a replay counts episodes, not days, and a live evaluation
after a check-in only has to look at findings on the newest entries.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.alerts import cycles
from bot.alerts.daily_spread import daily_spread
from bot.alerts.rules import MissedCheckins, NewSign, PainWorsening, Rules, Tier

Details = dict[str, float | int | str]
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Point:
    """One check-in as the rules see it. All fields None and missed=True: a scheduled one left unanswered."""

    at: datetime
    pain: int | None = None
    skin_color: str | None = None
    skin_temperature: str | None = None
    swelling: str | None = None
    mood: int | None = None
    note: str | None = None
    missed: bool = False


@dataclass(frozen=True, slots=True)
class Scored:
    """A completed, scored questionnaire (PHQ-2, PHQ-9, ...) as the rules see it."""

    at: datetime
    questionnaire: str
    total: float


@dataclass(frozen=True, slots=True)
class Infusion:
    on: date
    kind: str = ""


@dataclass(frozen=True)
class Finding:
    rule: str
    tier: Tier
    at: datetime  # the entry that made the rule fire
    details: Details = field(default_factory=dict)


def _round(value: float) -> float:
    return round(value, 1)


class _Baseline:
    """The scores of the last `span` days: sorted (for the median) and summed (for the spread)."""

    def __init__(self, span: timedelta) -> None:
        self.span = span
        self.entries: deque[tuple[datetime, int]] = deque()
        self.ordered: list[int] = []
        self.total = self.squares = self.neighbours = 0  # sums of x, x*x and x[i]*x[i+1]

    def add(self, at: datetime, pain: int) -> None:
        if self.entries:
            self.neighbours += self.entries[-1][1] * pain
        self.entries.append((at, pain))
        bisect.insort(self.ordered, pain)
        self.total, self.squares = self.total + pain, self.squares + pain * pain

    def forget_before(self, now: datetime) -> None:
        while self.entries and self.entries[0][0] < now - self.span:
            old = self.entries.popleft()[1]
            if self.entries:
                self.neighbours -= old * self.entries[0][1]
            self.ordered.pop(bisect.bisect_left(self.ordered, old))
            self.total, self.squares = self.total - old, self.squares - old * old

    def covers(self, now: datetime, *, entries: int, days: timedelta) -> bool:
        return len(self.ordered) >= entries and now - self.entries[0][0] >= days

    @property
    def median(self) -> float:
        n = len(self.ordered)
        return (self.ordered[(n - 1) // 2] + self.ordered[n // 2]) / 2

    @property
    def spread(self) -> float:
        """The standard deviation, widened when successive scores move together.

        Scores given hours apart share the day's pain, so two high ones are less evidence than two
        independent ones. The long-run variance of a series with lag-1 correlation r is about
        variance x (1 + 2r): using it keeps the false-alarm rate of a correlated diary near that of
        an independent one.
        """
        n = len(self.ordered)
        mean = self.total / n
        variance = max(0.0, (self.squares - self.total * mean) / (n - 1))
        if variance == 0.0:
            return 0.0
        lag1 = (self.neighbours / (n - 1) - mean * mean) / variance
        return math.sqrt(variance * (1 + 2 * min(0.9, max(0.0, lag1))))


def pain_worsening(points: Sequence[Point], config: PainWorsening, tier: Tier) -> list[Finding]:
    """A one-sided CUSUM of pain above the patient's baseline, standardised by their own spread.

    Baseline: the median of the last `baseline_days` of entries (at least `baseline_min_entries`,
    covering `baseline_min_days`); spread: how far their daily pain wanders, widened for scores given
    the same day and for correlation from one day to the next (see daily_spread), floored. At each
    entry the sum grows by (pain - baseline - rise/2) / spread, where rise = max(points, fraction x
    baseline), and fires at `alarm_threshold`: a noisy diary needs more entries above its baseline, a
    steady one fewer. When `signs_needed` of the entries since the sum left zero had pain up by at
    least rise/2 (so that they added evidence) and reported a changed skin colour, temperature or
    swelling, the sum fires at `alarm_threshold_with_signs` instead: a rise with the signs of a CRPS
    flare needs less pain evidence.
    With `signs_within`, those entries must be among the last `signs_within` of the rise: pain that
    wanders above its baseline for weeks collects a stray sign now and then, a flare shows them together.

    Entries join the baseline only once the sum is back at zero: the start of a flare (while the
    evidence builds) and the flare itself (during the alarm) never become the patient's "usual".
    """
    baseline = _Baseline(timedelta(days=config.baseline_days))
    min_days = timedelta(days=config.baseline_min_days)
    pending: list[tuple[datetime, int]] = []  # entries since the sum left zero
    findings: list[Finding] = []
    cusum, alarm = 0.0, False
    signs = 0  # entries since the sum left zero with pain above the baseline and a changed sign
    window: deque[bool] = deque(maxlen=config.signs_within or None)  # the same, entry by entry
    spread_on: date | None = None  # the spread is measured once a day, on the baseline as it was
    measured: float | None = None
    recent: deque[int] = deque(maxlen=3)
    for point in points:
        if point.pain is None:
            continue
        pain = point.pain
        recent.append(pain)
        baseline.forget_before(point.at)
        if not baseline.covers(point.at, entries=config.baseline_min_entries, days=min_days):
            cusum, alarm, signs = 0.0, False, 0
            window.clear()
            for at, score in pending:
                baseline.add(at, score)
            pending = []
            baseline.add(point.at, pain)
            continue
        usual = baseline.median
        if spread_on != point.at.date():
            spread_on, measured = point.at.date(), daily_spread(baseline.entries)
        spread = max(config.spread_floor, baseline.spread if measured is None else measured)
        rise = max(config.min_rise_points, config.min_rise_fraction * usual)
        cusum = min(config.alarm_threshold, max(0.0, cusum + (pain - usual - rise / 2) / spread))
        if cusum == 0.0:
            signs = 0
            window.clear()
        else:
            signed = pain > usual + rise / 2 and (_flare_sign(point) or (config.note_counts and _noted(point)))
            window.append(signed)
            signs = sum(window) if config.signs_within else signs + signed
        threshold = config.alarm_threshold
        if signs >= config.signs_needed:
            threshold = min(threshold, config.alarm_threshold_with_signs)
        if not alarm and cusum >= threshold:
            alarm = True
            rising = [score for _, score in pending] + [pain]  # since the sum last left zero: the change began
            findings.append(
                Finding(
                    "pain_worsening",
                    tier,
                    point.at,
                    {
                        "pain": pain,
                        "recent": ", ".join(map(str, recent)),
                        "baseline": _round(usual),
                        "baseline_entries": len(baseline.ordered),
                        "rise": _round(rise),
                        "spread": _round(spread),
                        "since": (pending[0][0] if pending else point.at).isoformat(),
                        "low": min(rising),
                        "high": max(rising),
                        "baseline_days": min(config.baseline_days, round((point.at - baseline.entries[0][0]) / DAY)),
                    },
                )
            )
        if cusum > 0.0:
            if not alarm:
                pending.append((point.at, pain))
            continue
        if alarm:
            alarm, pending = False, []  # the flare is over; its entries stay out of the baseline
        for at, score in pending:
            baseline.add(at, score)
        pending = []
        baseline.add(point.at, pain)
    return findings


def _noted(point: Point) -> bool:
    """The patient wrote a note at this check-in (its words are read only for crisis language)."""
    return bool(point.note and point.note.strip())


def _flare_sign(point: Point) -> bool:
    """A changed skin colour or temperature, or swelling: signs that come with a CRPS flare."""
    return bool(_vasomotor(point) or _swelling(point))


def _runs(
    points: Iterable[Point],
    *,
    rule: str,
    tier: Tier,
    length: int,
    counts: Callable[[Point], bool | None],
    calm_before: int = 0,
    days: int = 1,
    describe: Callable[[list[Point]], Details],
) -> list[Finding]:
    """Fire when `length` consecutive entries meet the condition on at least `days` different days,
    after `calm_before` entries that did not (a run too short to fire between them is neither).

    `counts` returns None for an entry that says nothing about the condition (e.g. the item was not
    answered): it neither extends nor breaks a run.
    """
    findings: list[Finding] = []
    run: list[Point] = []
    calm = 0
    calm_before_run = 0
    reported = False
    for point in points:
        verdict = counts(point)
        if verdict is None:
            continue
        if verdict:
            if not run:
                calm_before_run = calm
            run.append(point)
            if not reported and len(run) >= length and _days(run) >= days:
                reported = True  # the run is one episode, however long it goes on
                if calm_before_run >= calm_before:
                    findings.append(Finding(rule, tier, point.at, describe(run)))
        else:
            # A run too short to report does not end a calm spell: a stray answer or two (a morning
            # and an evening) neither counts as calm nor makes the next run wait for 5 more.
            calm = 1 if reported else (calm_before_run if run else calm) + 1
            run, reported = [], False
    return findings


def _days(run: list[Point]) -> int:
    """The days a run of check-ins covers (in the patient's own time, as each check-in was recorded)."""
    return len({p.at.date() for p in run})


def _values(run: list[Point], item: str) -> str:
    return ", ".join(str(getattr(p, item)) for p in run)


def _span(run: list[Point], item: str) -> Details:
    """When a run began and ended, and its lowest and highest score: what a card says in words."""
    scores = [int(getattr(p, item)) for p in run]
    return {"since": run[0].at.isoformat(), "until": run[-1].at.isoformat(), "low": min(scores), "high": max(scores)}


def _signs(run: list[Point], items: tuple[str, ...]) -> Details:
    """Each item's answers that report a change, in the order first given: "redder,blotchy"."""
    found: Details = {"since": run[0].at.isoformat(), "until": run[-1].at.isoformat()}
    for item in items:
        values = [getattr(p, item) for p in run if changed(item, getattr(p, item))]
        found[item] = ",".join(dict.fromkeys(values))
    return found


def severe_pain(points: Sequence[Point], rules: Rules) -> list[Finding]:
    """Pain of at least `at_least` on `consecutive` check-ins in a row; for a patient whose usual pain
    (the median of the `baseline_days` before, once there are `baseline_min_entries`) is already
    within `above_usual` points of it, the run must be `above_usual` above their usual instead."""
    config = rules.severe_pain
    usual = _Baseline(timedelta(days=config.baseline_days))
    needed: dict[datetime, float] = {}  # each check-in's threshold, from the scores before it
    running: float | None = None  # a run keeps the threshold it began with: its own scores are no usual
    for point in points:
        if point.pain is None:
            continue
        usual.forget_before(point.at)
        threshold = float(config.at_least)
        if config.above_usual and len(usual.ordered) >= config.baseline_min_entries:
            threshold = max(threshold, usual.median + config.above_usual)
        needed[point.at] = threshold = threshold if running is None else running
        running = threshold if point.pain >= threshold else None
        usual.add(point.at, point.pain)
    return _runs(
        points,
        rule="severe_pain",
        tier=config.tier,
        length=config.consecutive,
        counts=lambda p: None if p.pain is None else p.pain >= needed[p.at],
        describe=lambda run: _span(run, "pain") | {"recent": _values(run, "pain"), "at_least": config.at_least},
    )


def _new_sign(
    points: Sequence[Point], config: NewSign, rule: str, signs: Callable[[Point], bool | None], items: tuple[str, ...]
) -> list[Finding]:
    return _runs(
        points,
        rule=rule,
        tier=config.tier,
        length=config.consecutive,
        counts=signs,
        calm_before=config.calm_before,
        days=config.days,
        describe=lambda run: (
            _signs(run, items)
            | {
                "recent": "; ".join(" / ".join(str(getattr(p, i) or "-") for i in items) for p in run),
                "calm_before": config.calm_before,
            }
        ),
    )


# Answers that say nothing has changed. "normal" is the earlier, absolute colour question's answer.
USUAL = {
    "skin_color": frozenset({"same", "normal"}),
    "skin_temperature": frozenset({"same"}),
    "swelling": frozenset({"none"}),
}
# "I can't tell" is no answer about the sign, neither a change nor its absence.
UNSURE = frozenset({"cant_tell"})


def changed(item: str, value: str | None) -> bool | None:
    """Whether an answer reports a change against the other side; None when it says nothing."""
    if value is None or value in UNSURE:
        return None
    return value not in USUAL[item]


def _vasomotor(point: Point) -> bool | None:
    colour, temperature = changed("skin_color", point.skin_color), changed("skin_temperature", point.skin_temperature)
    if colour is None and temperature is None:
        return None
    return bool(colour or temperature)


def _swelling(point: Point) -> bool | None:
    return changed("swelling", point.swelling)


def low_mood(points: Sequence[Point], scores: Sequence[Scored], rules: Rules) -> list[Finding]:
    """Mood lower than the patient's own usual, from the daily diary or from the PHQ-9.

    Daily: `consecutive` moods each at most `at_most` and at least `drop` below the median of the
    `baseline_days` before (once there are `baseline_min_entries`; before that, `at_most` alone), so a
    patient whose mood is always low is compared with themselves. PHQ-9: a total of at least
    `phq9_at_least` when the previous one was below it (or there was none), or `phq9_rise` above the
    lowest since the last finding (so 19, 22, 25 is a rise of 6) on `phq9_rise_confirmed` PHQ-9s in a
    row (one high score is often the questionnaire's noise). After a finding, none for
    `refractory_days`.
    """
    config = rules.low_mood
    before = _Baseline(timedelta(days=config.baseline_days))  # the moods of the days before, kept sorted
    findings: list[Finding] = []
    run: list[Point] = []
    for point in points:
        if point.mood is None:
            continue
        at, mood = point.at, point.mood
        before.forget_before(at)
        usual = before.median if len(before.ordered) >= config.baseline_min_entries else None
        before.add(at, mood)
        drop = config.drop if usual is None or usual > config.at_most else config.drop_when_usual_low
        low = mood <= config.at_most and (usual is None or mood <= usual - drop)
        run = [*run, point] if low else []
        if len(run) == config.consecutive:
            details = _span(run, "mood") | {"source": "diary", "recent": _values(run, "mood")}
            details["usual"] = "-" if usual is None else _round(usual)
            findings.append(Finding("low_mood", config.tier, at, details))
    previous: float | None = None
    lowest: float | None = None  # since the last finding: a rise in small steps adds up
    reached: datetime | None = None  # the last PHQ-9 at or above phq9_at_least
    risen = 0  # PHQ-9s in a row at phq9_rise or more above the lowest
    recross = timedelta(days=config.phq9_recross_days)
    for score in scores:
        if score.questionnaire != "phq9":
            continue
        crossed = score.total >= config.phq9_at_least and (previous is None or previous < config.phq9_at_least)
        if crossed and recross and reached is not None and score.at - reached <= recross:
            crossed = False  # at this level within the window before: no news
        if score.total >= config.phq9_at_least:
            reached = score.at
        risen = risen + 1 if lowest is not None and score.total - lowest >= config.phq9_rise else 0
        rose = risen >= config.phq9_rise_confirmed
        if crossed or rose:
            earlier = "-" if previous is None else f"{previous:g}"
            findings.append(
                Finding(
                    "low_mood",
                    config.tier,
                    score.at,
                    {"source": "phq9", "total": f"{score.total:g}", "previous": earlier, "since": score.at.isoformat()},
                )
            )
            lowest, risen = score.total, 0
        previous = score.total
        lowest = score.total if lowest is None else min(lowest, score.total)
    findings.sort(key=lambda f: f.at)
    kept: list[Finding] = []
    for finding in findings:
        if not kept or finding.at - kept[-1].at >= timedelta(days=config.refractory_days):
            kept.append(finding)
    return kept


def missed_checkins(points: Sequence[Point], rules: Rules) -> list[Finding]:
    """A silence longer than the patient's own gaps.

    At least `consecutive` scheduled check-ins unanswered in a row, and as many as would come by
    chance less than once in `rarer_than` check-ins for a patient who leaves unanswered the share they
    left in the `usual_gap_days` before the silence began: a patient who misses a third of their
    check-ins at random is not reported for a run of 3, one who answers nearly every day is. A silence
    of `always_after_days` days is reported whatever the patient's pattern. One finding per silence.
    """
    config = rules.missed_checkins
    window = timedelta(days=config.usual_gap_days)
    findings: list[Finding] = []
    run: list[Point] = []
    before: deque[tuple[datetime, bool]] = deque()  # the scheduled check-ins before the silence: missed?
    needed, reported = config.consecutive, False
    for point in points:
        if point.missed:
            if not run:
                while before and before[0][0] < point.at - window:
                    before.popleft()
                needed, reported = _silence_needed(before, config), False
            run.append(point)
            if not reported and (len(run) >= needed or _days(run) >= config.always_after_days):
                reported = True
                findings.append(
                    Finding(
                        "missed_checkins", config.tier, point.at, {"missed": len(run), "since": run[0].at.isoformat()}
                    )
                )
        elif _answered(point):
            before.extend((p.at, True) for p in run)
            before.append((point.at, False))
            run = []
        # skipped ("Skip today") neither counts nor breaks a run
    return findings


def _silence_needed(before: Sequence[tuple[datetime, bool]], config: MissedCheckins) -> int:
    """How many unanswered check-ins in a row are unusual for a patient with this history."""
    if not config.usual_gap_days or not before:
        return config.consecutive
    share = sum(missed for _, missed in before) / len(before)
    if share <= 0.0:
        return config.consecutive
    if share >= 1.0:
        return 10**9  # never answers: only the days of silence count
    # share ** n is the chance that n check-ins in a row are missed by chance.
    return max(config.consecutive, math.ceil(math.log(1 / config.rarer_than) / math.log(share)))


def _answered(point: Point) -> bool:
    return any(
        value is not None
        for value in (point.pain, point.skin_color, point.skin_temperature, point.swelling, point.mood, point.note)
    )


def relief_waning(points: Sequence[Point], infusions: Sequence[Infusion], rules: Rules) -> list[Finding]:
    """After an infusion that brought pain down by at least `min_relief_fraction` of the median of the
    `before_days` before it (pain smoothed over `recent_entries` scores), fire once when relief has
    fallen to `1 - regained_fraction` of its best: the same measure as the cycles staff see."""
    config = rules.relief_waning
    pains = [(p.at, p.pain) for p in points if p.pain is not None]
    days = sorted(infusions, key=lambda i: i.on)
    findings: list[Finding] = []
    for index, infusion in enumerate(days):
        start = infusion.on
        level = cycles.baseline(pains, start, config)
        if level is None:
            continue
        end = start + timedelta(days=config.after_days)
        if index + 1 < len(days):
            end = min(end, days[index + 1].on)
        half: datetime | None = None  # since when relief has stayed below half of its best
        for step in cycles.steps(pains, start, end, level, config):
            half = (half or step.at) if step.relief < step.best / 2 else None
            relieved = step.best >= config.min_relief_fraction
            settled = step.day >= config.not_before_days
            if relieved and settled and step.relief <= (1 - config.regained_fraction) * step.best:
                details: Details = {
                    "infusion": start.isoformat(),
                    "days_since": step.day,
                    "before": _round(level),
                    "lowest": _round(level * (1 - step.best)),
                    "recent": _round(step.level),
                    "relief": round(100 * step.best),
                    "relief_day": step.best_day,
                    "relief_now": round(100 * step.relief),
                    "since": (half or step.at).isoformat(),
                }
                findings.append(Finding("relief_waning", config.tier, step.at, details))
                break
    return findings


def evaluate(
    points: Sequence[Point], infusions: Sequence[Infusion], rules: Rules, scores: Sequence[Scored] = ()
) -> list[Finding]:
    """Every enabled rule over one patient's diary and questionnaire scores (each in time order),
    findings in time order."""
    findings: list[Finding] = []
    if rules.pain_worsening.enabled:
        findings += pain_worsening(points, rules.pain_worsening, rules.pain_worsening.tier)
    if rules.severe_pain.enabled:
        findings += severe_pain(points, rules)
    if rules.vasomotor_change.enabled:
        findings += _new_sign(
            points, rules.vasomotor_change, "vasomotor_change", _vasomotor, ("skin_color", "skin_temperature")
        )
    if rules.swelling_new.enabled:
        findings += _new_sign(points, rules.swelling_new, "swelling_new", _swelling, ("swelling",))
    if rules.low_mood.enabled:
        findings += low_mood(points, scores, rules)
    if rules.missed_checkins.enabled:
        findings += missed_checkins(points, rules)
    if rules.relief_waning.enabled and infusions:
        findings += relief_waning(points, infusions, rules)
    findings.sort(key=lambda f: f.at)
    return findings
