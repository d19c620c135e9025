"""A patient's diary in the few figures the console's patient panel shows, kept in a summary row per
patient (storage/summaries.py) so that the panel of a large clinic reads one row per patient instead of
everyone's diary on each load.

The figures: daily check-ins answered of those due in the last 14 days; the last pain and the usual
pain (the median of 28 days); the trend (the median of the last 7 days against the 7 before); and the
relief now of the latest infusion, as /cycles and the cards compute it.

When they are computed:
- Every change of a patient's check-ins, answers or infusions marks their row out of date in the same
  transaction (storage/summaries.changed). The paths that run right after a check-in (the rules'
  evaluation) or an infusion compute it again at once; the panel computes any row still out of date
  (or missing, as after the migration) when it loads, and stores it. So the panel is never wrong, at
  worst slower once.
- Three of the figures slide with the clock. A row therefore keeps the scores and check-ins its figures
  come from and the last instant the figures hold (`holds_until`: the next time a score or check-in
  enters or leaves a window). Past it, the panel computes the figures again from the row alone, with no
  read of the diary. Days since an infusion, and whether it is within the year the relief is shown for,
  are worked out from the stored date when the page is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.alerts.cycles import cycles, local
from bot.alerts.rules import ReliefWaning
from storage import infusions, summaries
from storage.checkins import Entry

ADHERENCE = timedelta(days=14)
USUAL = timedelta(days=28)  # the pain rules' baseline window (prompts/rules.yaml)
TREND = timedelta(days=7)  # the last week against the week before
TREND_STEP = 1.0  # a change of the weekly median pain smaller than this is "steady"
# A check-in started within the next minute counts already: the page's clock and the bot's differ.
SOON = timedelta(minutes=1)
CYCLES = timedelta(days=365)  # an infusion's relief is shown for a year: here, on /cycles and on cards
FOREVER = 2**62  # holds_until of figures that only a change of the diary can change
CHUNK = 5_000  # patients computed at once: each query names them, and PostgreSQL's driver takes 32,767 values


@dataclass(frozen=True)
class Inputs:
    """What the figures are computed from."""

    pains: Sequence[tuple[datetime, int]]  # daily check-ins' pain scores, oldest first
    sittings: Sequence[tuple[datetime, bool]]  # due daily check-ins, oldest first: answered or not
    infusion: date | None  # the latest


@dataclass(frozen=True)
class Summary:
    due: int
    answered: int
    last_pain: int | None
    usual_pain: float | None
    trend: str | None  # rising, falling, steady; None: too few scores
    infusion: date | None
    relief_now: float | None  # of the latest infusion, a fraction of the pain before it
    holds_until: datetime | None  # the last instant these figures hold; None: until the diary changes


def rules_key(config: ReliefWaning) -> str:
    """The settings the relief depends on: a row computed under others is computed again."""
    return f"{config.before_days}/{config.recent_entries}"


def shows_relief(infusion: date | None, now: datetime) -> bool:
    return infusion is not None and infusion >= (now - CYCLES).date()


def pains_since(infusion: date | None, now: datetime, config: ReliefWaning) -> datetime:
    """Where the scores the figures need start: 28 days back, or the relief's baseline before the infusion."""
    since = now - USUAL
    if infusion is not None and shows_relief(infusion, now):
        baseline = datetime.combine(infusion - timedelta(days=config.before_days), time(), tzinfo=UTC)
        since = min(since, baseline)
    return since


def _trend(own: list[tuple[datetime, int]], now: datetime) -> str | None:
    week, fortnight = now - TREND, now - 2 * TREND
    last = [p for at, p in own if at >= week]
    before = [p for at, p in own if fortnight <= at < week]
    if not last or not before:
        return None
    change = median(last) - median(before)
    return "rising" if change >= TREND_STEP else "falling" if change <= -TREND_STEP else "steady"


def compute(inputs: Inputs, *, now: datetime, timezone: str, config: ReliefWaning) -> Summary:
    """The figures at `now`, from inputs reaching back to at least pains_since() and ADHERENCE."""
    until = now + SOON
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    pains = [(at, pain) for at, pain in inputs.pains if at < until]
    own = [(at, pain) for at, pain in pains if at >= now - USUAL]
    answered = [done for at, done in inputs.sittings if now - ADHERENCE <= at < until]
    relief = None
    if shows_relief(inputs.infusion, now):
        assert inputs.infusion is not None
        cycle = cycles(local(pains, zone), [(inputs.infusion, "")], today=today, config=config)[-1]
        relief = cycle.relief_now if cycle.measured else None
    return Summary(
        due=len(answered),
        answered=sum(answered),
        last_pain=own[-1][1] if own else None,
        usual_pain=float(median(pain for _, pain in own)) if own else None,
        trend=_trend(own, now),
        infusion=inputs.infusion,
        relief_now=relief,
        holds_until=_holds_until(inputs, now=now, zone=zone, today=today, relief=shows_relief(inputs.infusion, now)),
    )


def _holds_until(inputs: Inputs, *, now: datetime, zone: ZoneInfo, today: date, relief: bool) -> datetime | None:
    """The last instant before a score or check-in enters or leaves one of compute()'s windows. Each
    window is `start <= at < now + SOON`; a score counts in it while now is in (at - SOON, at + length]."""
    edges: list[datetime] = []
    for at, _ in inputs.pains:
        edges += (at - SOON, at + TREND, at + 2 * TREND, at + USUAL)
        if relief and (day := at.astimezone(zone).date()) > today:
            # The relief counts scores up to the patient's "today": one dated later joins at that midnight.
            edges.append(datetime.combine(day, time(), tzinfo=zone).astimezone(UTC) - timedelta(microseconds=1))
    for at, _ in inputs.sittings:
        edges += (at - SOON, at + ADHERENCE)
    return min((edge for edge in edges if edge >= now), default=None)


def _kept(inputs: Inputs, now: datetime, config: ReliefWaning) -> Inputs:
    """What later computations need: nothing older than the windows reach back from now on."""
    since = pains_since(inputs.infusion, now, config)
    return Inputs(
        [(at, p) for at, p in inputs.pains if at >= since],
        [(at, done) for at, done in inputs.sittings if at >= now - ADHERENCE],
        inputs.infusion,
    )


def _row(patient_id: int, summary: Summary, inputs: Inputs, timezone: str, config: ReliefWaning) -> dict[str, Any]:
    return {
        "patient_id": patient_id,
        "fresh_until": summaries.micros(summary.holds_until) if summary.holds_until else FOREVER,
        "timezone": timezone,
        "rules": rules_key(config),
        "due": summary.due,
        "answered": summary.answered,
        "last_pain": summary.last_pain,
        "usual_pain": summary.usual_pain,
        "trend": summary.trend,
        "infusion_on": summary.infusion,
        "relief_now": summary.relief_now,
        "pains": summaries.encode_pains(inputs.pains),
        "sittings": summaries.encode_sittings(inputs.sittings),
    }


async def refresh(
    session: AsyncSession,
    *,
    patient_ids: list[int],
    now: datetime,
    config: ReliefWaning,
    diary: tuple[datetime, list[Entry]] | None = None,
) -> dict[int, Summary]:
    """Compute the patients' summaries from their diaries and store them. `diary`: one patient's daily
    check-ins since a time, already read by the caller (the rules' evaluation): used when it reaches back
    far enough, so that the diary is not read twice."""
    found: dict[int, Summary] = {}
    for start in range(0, len(patient_ids), CHUNK):
        part = patient_ids[start : start + CHUNK]
        found |= await _refresh(session, patient_ids=part, now=now, config=config, diary=diary)
    return found


async def _refresh(
    session: AsyncSession,
    *,
    patient_ids: list[int],
    now: datetime,
    config: ReliefWaning,
    diary: tuple[datetime, list[Entry]] | None,
) -> dict[int, Summary]:
    read = await summaries.versions(session=session, patient_ids=patient_ids)  # before the diary: see save()
    zones = await summaries.timezones(session=session, patient_ids=patient_ids)
    latest = await infusions.latest_per_patient(session=session, patient_ids=patient_ids)
    since = {p: pains_since(latest.get(p), now, config) for p in zones}
    pains: dict[int, list[tuple[datetime, int]]] = {}
    if diary is not None and len(since) == 1:
        loaded_since, entries = diary
        (patient_id,) = since
        if loaded_since <= since[patient_id]:
            pains[patient_id] = [
                (e.started_at, int(e.answers["pain"]))
                for e in entries
                if e.started_at >= since[patient_id] and e.answers.get("pain", "").isdigit()
            ]
    pains |= await summaries.pains_since(session=session, since={p: s for p, s in since.items() if p not in pains})
    sittings = await summaries.due_since(session=session, patient_ids=list(zones), since=now - ADHERENCE)
    found, rows = {}, []
    for patient_id, zone in zones.items():
        inputs = Inputs(pains[patient_id], sittings[patient_id], latest.get(patient_id))
        found[patient_id] = compute(inputs, now=now, timezone=zone, config=config)
        rows.append(_row(patient_id, found[patient_id], inputs, zone, config))
    await summaries.save(session=session, rows=rows, read=read)
    return found


async def recompute(
    session: AsyncSession, *, timezones: Mapping[int, str], now: datetime, config: ReliefWaning
) -> dict[int, Summary]:
    """Compute the figures of summaries the clock has moved past (or whose patient moved to another time
    zone) from what their rows keep, without reading the diaries, and store them."""
    found: dict[int, Summary] = {}
    ids = list(timezones)
    for start in range(0, len(ids), CHUNK):
        part = {i: timezones[i] for i in ids[start : start + CHUNK]}
        found |= await _recompute(session, timezones=part, now=now, config=config)
    return found


async def _recompute(
    session: AsyncSession, *, timezones: Mapping[int, str], now: datetime, config: ReliefWaning
) -> dict[int, Summary]:
    stored = await summaries.inputs_of(session=session, patient_ids=list(timezones))
    found, rows, read = {}, [], {}
    for patient_id, (version, infusion, pains, sittings) in stored.items():
        inputs = _kept(Inputs(pains, sittings, infusion), now, config)
        found[patient_id] = compute(inputs, now=now, timezone=timezones[patient_id], config=config)
        rows.append(_row(patient_id, found[patient_id], inputs, timezones[patient_id], config))
        read[patient_id] = version
    await summaries.save(session=session, rows=rows, read=read)
    return found
