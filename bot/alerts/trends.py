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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.alerts import cycles
from bot.alerts.daily_spread import Spread, daily_spread
from bot.alerts.rules import MissedCheckins, NewSign, PainWorsening, Rules, Tier
from bot.alerts.skin_signs import VASOMOTOR, SignEvidence, answers, changed

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
    """Two one-sided CUSUMs of pain above the patient's baseline; the rule fires when either crosses.

    Baseline: the median of the last `baseline_days` of entries (at least `baseline_min_entries`,
    covering `baseline_min_days`); spread: how far their daily pain wanders, widened for scores given
    the same day and for correlation from one day to the next (see daily_spread), floored, and counted
    per day (`per_day_power`). rise = max(points, fraction x baseline).

    Pain alone: each entry adds (pain - baseline - rise/2 - the baseline's own uncertainty) / spread,
    and `note_weight` when it carries a note and its pain is above the baseline; it fires at
    `alarm_threshold`. A noisy diary needs more entries above its baseline, a steady one fewer; a
    baseline measured on a short or wandering diary is uncertain, and the rise is counted above that.

    Pain with the signs of a flare: each entry adds the evidence of its skin answers (a changed
    colour, temperature or swelling for, unchanged ones a little against; see skin_signs), a note's,
    and its pain's when above the rise's midpoint; it fires at `alarm_threshold_with_signs` when the
    pain since it began averages above the baseline. The skin signs come with a flare's onset, while
    the pain may still be rising: they tell a flare days before the pain alone could.

    Entries join the baseline only once both sums are back at zero: the start of a flare (while the
    evidence builds) and the flare itself (during the alarm) never become the patient's "usual".
    """
    baseline = _Baseline(timedelta(days=config.baseline_days))
    min_days = timedelta(days=config.baseline_min_days)
    signs = SignEvidence(
        flare_share=config.flare_sign_share, calm_share=config.calm_sign_share, days=config.baseline_days
    )
    pending: list[tuple[datetime, int]] = []  # entries since a sum left zero
    findings: list[Finding] = []
    alone = with_signs = 0.0
    alarm = False
    rising: list[int] = []  # the pain since the sum with the signs left zero
    spread_on: date | None = None  # the spread is measured once a day, on the baseline as it was
    measured: Spread | None = None
    recent: deque[int] = deque(maxlen=3)
    for point in points:
        if point.pain is None:
            continue
        pain = point.pain
        recent.append(pain)
        evidence = signs.weigh(point)
        baseline.forget_before(point.at)
        if not baseline.covers(point.at, entries=config.baseline_min_entries, days=min_days):
            alone = with_signs = 0.0
            alarm, rising = False, []
            for at, score in pending:
                baseline.add(at, score)
            pending = []
            baseline.add(point.at, pain)
            continue
        usual = baseline.median
        if spread_on != point.at.date():
            spread_on, measured = point.at.date(), daily_spread(baseline.entries)
        spread = baseline.spread if measured is None else measured.per_checkin
        per_day = 1.0 if measured is None else measured.checkins_per_day
        spread = max(config.spread_floor, spread) * per_day**config.per_day_power
        uncertainty = 0.0 if measured is None else config.usual_uncertainty * measured.usual_error
        rise = max(config.min_rise_points, config.min_rise_fraction * usual)
        noted = config.note_counts and _noted(point)
        above = (pain - usual - rise / 2) / spread
        alone += (pain - usual - rise / 2 - uncertainty) / spread
        alone += config.note_weight if noted and pain > usual else 0.0
        with_signs += config.pain_weight_with_signs * max(0.0, above) + evidence
        with_signs += config.note_evidence if noted else 0.0
        alone = min(config.alarm_threshold, max(0.0, alone))
        with_signs = min(config.alarm_threshold_with_signs, max(0.0, with_signs))
        rising = [*rising, pain] if with_signs > 0.0 else []
        risen = sum(rising) >= (usual + config.pain_rise_with_signs * rise) * len(rising)
        flare = with_signs >= config.alarm_threshold_with_signs and risen
        if not alarm and (alone >= config.alarm_threshold or flare):
            alarm = True
            scores = [score for _, score in pending] + [pain]  # since a sum last left zero: the change began
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
                        "low": min(scores),
                        "high": max(scores),
                        "baseline_days": min(config.baseline_days, round((point.at - baseline.entries[0][0]) / DAY)),
                        "with_signs": int(alone < config.alarm_threshold),
                    },
                )
            )
        if alone > 0.0 or with_signs > 0.0:
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


def _runs(
    points: Iterable[Point],
    *,
    rule: str,
    tier: Tier,
    length: int,
    counts: Callable[[Point], bool | None],
    days: int = 1,
    describe: Callable[[list[Point]], Details],
) -> list[Finding]:
    """Fire when `length` consecutive entries meet the condition on at least `days` different days;
    once per run, however long it goes on.

    `counts` returns None for an entry that says nothing about the condition (e.g. the item was not
    answered): it neither extends nor breaks a run.
    """
    findings: list[Finding] = []
    run: list[Point] = []
    reported = False
    for point in points:
        verdict = counts(point)
        if verdict is None:
            continue
        if not verdict:
            run, reported = [], False
            continue
        run.append(point)
        if not reported and len(run) >= length and _days(run) >= days:
            reported = True  # the run is one episode, however long it goes on
            findings.append(Finding(rule, tier, point.at, describe(run)))
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
        days=config.days,
        counts=lambda p: None if p.pain is None else p.pain >= needed[p.at],
        describe=lambda run: _span(run, "pain") | {"recent": _values(run, "pain"), "at_least": config.at_least},
    )


def _new_sign(points: Sequence[Point], config: NewSign, rule: str, items: tuple[str, ...]) -> list[Finding]:
    """A new change of the limb's skin, one finding per episode, after `calm_before` check-ins on which
    this rule's items did not change (an episode that fired nothing neither counts nor resets them).

    Either the change is seen on `consecutive` check-ins in a row covering `days` days (a sign that
    stays), or the evidence of all the skin answers (colour, temperature and swelling pooled: a flare
    often changes several; see skin_signs) summed since it was last at zero reaches `evidence`, with
    this rule's items changed on at least `seen_on` of those check-ins: three or four changed answers
    within a few check-ins stand out, one stray answer does not. An episode lasts while either holds.
    A check-in without skin answers neither adds nor takes away.
    """
    signs = SignEvidence(
        flare_share=config.flare_sign_share, calm_share=config.calm_sign_share, days=config.own_share_days
    )
    findings: list[Finding] = []
    total = 0.0
    run: list[Point] = []  # check-ins in a row with this rule's items changed
    episode: list[Point] = []  # since the sum left zero or the run began
    calm = calm_at_start = 0
    reported = False
    for point in points:
        given = answers(point)
        if not given:
            continue
        total = min(config.evidence, max(0.0, total + signs.weigh(point)))
        mine = [given[item] for item in items if item in given]
        here = any(mine) if mine else None  # None: this rule's items were not answered
        run = [*run, point] if here else ([] if here is False else run)
        if total == 0.0 and not run:
            if episode:
                calm = 0 if reported else calm
                episode, reported = [], False
            calm += here is False
            continue
        if not episode:
            calm_at_start = calm
        episode.append(point)
        seen = [p for p in episode if any(changed(item, getattr(p, item)) for item in items)]
        stays = len(run) >= config.consecutive and _days(run) >= config.days
        adds_up = total >= config.evidence and len(seen) >= config.seen_on
        if not reported and (stays or adds_up):
            reported = True  # the episode is one, however long it goes on
            if calm_at_start >= config.calm_before:
                details = _signs(seen, items) | {
                    "recent": "; ".join(" / ".join(str(getattr(p, i) or "-") for i in items) for p in episode),
                    "calm_before": config.calm_before,
                }
                findings.append(Finding(rule, config.tier, point.at, details))
    return findings


def low_mood(
    points: Sequence[Point], scores: Sequence[Scored], rules: Rules, resolved: Sequence[datetime] = ()
) -> list[Finding]:
    """Mood lower than the patient's own usual, from the daily diary or from the PHQ-9.

    Daily: `consecutive` moods each at most `at_most` and at least `drop` below the median of the
    `baseline_days` before (once there are `baseline_min_entries`; before that, `at_most` alone), so a
    patient whose mood is always low is compared with themselves. PHQ-9: a total of at least
    `phq9_at_least` when the previous one was below it (or there was none), or `phq9_rise` above the
    lowest since the last finding (so 19, 22, 25 is a rise of 6) on `phq9_rise_confirmed` PHQ-9s in a
    row (one high score is often the questionnaire's noise). After a finding, none for
    `refractory_days`, nor for as long after each time staff `resolved` one.
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
    quiet = timedelta(days=config.refractory_days)
    kept: list[Finding] = []
    for finding in findings:
        # One held back after a resolve starts no quiet of its own: staff never saw it, and it would hold back the
        # next episode after the resolve's quiet too. One made before the resolve is not held back by it (a snooze
        # held it, or it came as staff resolved): they never saw it either.
        after_resolve = any(at < finding.at < at + quiet for at in resolved)  # the same second: not seen
        if not after_resolve and (not kept or finding.at - kept[-1].at >= quiet):
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
    points: Sequence[Point],
    infusions: Sequence[Infusion],
    rules: Rules,
    scores: Sequence[Scored] = (),
    resolved: Mapping[str, Sequence[datetime]] | None = None,
) -> list[Finding]:
    """Every enabled rule over one patient's diary and questionnaire scores (each in time order),
    findings in time order; `resolved`: when staff resolved each rule's alerts (a rule with a quiet after one)."""
    findings: list[Finding] = []
    if rules.pain_worsening.enabled:
        findings += pain_worsening(points, rules.pain_worsening, rules.pain_worsening.tier)
    if rules.severe_pain.enabled:
        findings += severe_pain(points, rules)
    if rules.vasomotor_change.enabled:
        findings += _new_sign(points, rules.vasomotor_change, "vasomotor_change", VASOMOTOR)
    if rules.swelling_new.enabled:
        findings += _new_sign(points, rules.swelling_new, "swelling_new", ("swelling",))
    if rules.low_mood.enabled:
        findings += low_mood(points, scores, rules, (resolved or {}).get("low_mood", ()))
    if rules.missed_checkins.enabled:
        findings += missed_checkins(points, rules)
    if rules.relief_waning.enabled and infusions:
        findings += relief_waning(points, infusions, rules)
    findings.sort(key=lambda f: f.at)
    return findings
