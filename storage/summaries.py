"""Query functions for the patient panel's summary rows (one per patient, bot/diary/summary.py): marking
a row out of date when the diary changes, reading the inputs its figures are computed from, writing it,
and reading the whole clinic for the panel.

Times are kept as microseconds since 1970 (UTC): the panel compares thousands of them per load."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Float, and_, bindparam, case, cast, func, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import alerts, checkins, patients
from storage.core import execute, insert
from storage.models import Answer, CheckIn, PanelSummary, Patient, Schedule, table
from storage.statuses import CheckInStatus, PatientStatus, ShownStatus

SUMMARIES = table(PanelSummary)
CHECKINS = table(CheckIn)
ANSWERS = table(Answer)
PATIENTS = table(Patient)
SCHEDULES = table(Schedule)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def micros(at: datetime) -> int:
    return (at - EPOCH) // MICROSECOND


def instant(us: int) -> datetime:
    return EPOCH + us * MICROSECOND


# ------------------------------------------------------------------------------------ the diary changed


async def changed(*, session: AsyncSession, patient_ids: Iterable[int]) -> None:
    """The patients' check-ins, answers or infusions changed in this transaction: their summaries must be
    computed again, and one computed from what was read before this change must not be written."""
    ids = sorted(set(patient_ids))
    if not ids:
        return
    statement = insert(session, SUMMARIES).on_conflict_do_update(
        index_elements=["patient_id"], set_={"version": SUMMARIES.c.version + 1, "fresh_until": None}
    )
    # As executemany: SQLAlchemy sends it in batches, within the drivers' limits on parameters.
    await execute(session, statement, [{"patient_id": i, "version": 1, "fresh_until": None} for i in ids])


async def changed_checkin(*, session: AsyncSession, checkin_id: int) -> None:
    """As changed(), for the patient whose check-in this is."""
    found = await execute(session, select(CHECKINS.c.patient_id).where(CHECKINS.c.id == checkin_id))
    await changed(session=session, patient_ids=found.scalars().all())


# ------------------------------------------------------------------------------------ computing a summary


async def versions(*, session: AsyncSession, patient_ids: list[int]) -> dict[int, int]:
    """The summaries' versions now (patients without a row are left out): read before the diary, so that
    a change committed in between makes the write that follows miss (save())."""
    result = await execute(
        session, select(SUMMARIES.c.patient_id, SUMMARIES.c.version).where(SUMMARIES.c.patient_id.in_(patient_ids))
    )
    return {int(p): int(v) for p, v in result.all()}


async def timezones(*, session: AsyncSession, patient_ids: list[int]) -> dict[int, str]:
    result = await execute(session, select(PATIENTS.c.id, PATIENTS.c.timezone).where(PATIENTS.c.id.in_(patient_ids)))
    return {int(p): str(zone) for p, zone in result.all()}


async def pains_since(*, session: AsyncSession, since: Mapping[int, datetime]) -> dict[int, list[tuple[datetime, int]]]:
    """Each patient's pain scores at daily check-ins started at or after their own `since`, oldest first:
    one query, reading from the earliest start of each week's group (the rest is dropped here)."""
    if not since:
        return {}
    by_week: dict[datetime, list[int]] = defaultdict(list)
    for patient_id, start in since.items():
        week = start.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=start.weekday())
        by_week[week].append(patient_id)
    window = or_(
        *(and_(CHECKINS.c.patient_id.in_(ids), CHECKINS.c.started_at >= start) for start, ids in by_week.items())
    )
    result = await execute(
        session,
        select(CHECKINS.c.patient_id, CHECKINS.c.started_at, ANSWERS.c.value)
        .join(ANSWERS, (ANSWERS.c.checkin_id == CHECKINS.c.id) & (ANSWERS.c.item == "pain"))
        .where(CHECKINS.c.questionnaire == "daily", window)
        .order_by(CHECKINS.c.started_at, CHECKINS.c.id),
    )
    found: dict[int, list[tuple[datetime, int]]] = {p: [] for p in since}
    for patient_id, at, value in result.all():
        if value.isdigit() and at >= since[patient_id]:
            found[patient_id].append((at, int(value)))
    return found


async def due_since(
    *, session: AsyncSession, patient_ids: list[int], since: datetime
) -> dict[int, list[tuple[datetime, bool]]]:
    """Each patient's daily check-ins started at or after `since` that count as due (answered, or closed
    missed or skipped; not those the bot never sent), oldest first, with whether each was answered."""
    done = CHECKINS.c.completed_at.is_not(None)
    result = await execute(
        session,
        select(CHECKINS.c.patient_id, CHECKINS.c.started_at, done)
        .where(
            CHECKINS.c.patient_id.in_(patient_ids),
            CHECKINS.c.questionnaire == "daily",
            CHECKINS.c.started_at >= since,
            or_(done, CHECKINS.c.status.in_((CheckInStatus.MISSED, CheckInStatus.SKIPPED))),
            ~checkins.never_sent(),
        )
        .order_by(CHECKINS.c.started_at, CHECKINS.c.id),
    )
    found: dict[int, list[tuple[datetime, bool]]] = {p: [] for p in patient_ids}
    for patient_id, at, answered in result.all():
        found[patient_id].append((at, bool(answered)))
    return found


def encode_pains(pains: Iterable[tuple[datetime, int]]) -> str:
    return ";".join(f"{micros(at)}:{pain}" for at, pain in pains)


def encode_sittings(sittings: Iterable[tuple[datetime, bool]]) -> str:
    return ";".join(f"{micros(at)}:{int(answered)}" for at, answered in sittings)


def _decoded(text: str) -> list[tuple[datetime, int]]:
    return [(instant(int(at)), int(value)) for at, value in (part.split(":") for part in text.split(";") if part)]


async def inputs_of(
    *, session: AsyncSession, patient_ids: list[int]
) -> dict[int, tuple[int, date | None, list[tuple[datetime, int]], list[tuple[datetime, bool]]]]:
    """What the summaries were computed from, as save() kept it: (version, latest infusion, pains,
    sittings) per patient."""
    s = SUMMARIES.c
    result = await execute(
        session,
        select(s.patient_id, s.version, s.infusion_on, s.pains, s.sittings).where(s.patient_id.in_(patient_ids)),
    )
    return {
        int(p): (int(v), on, _decoded(pains), [(at, bool(answered)) for at, answered in _decoded(sittings)])
        for p, v, on, pains, sittings in result.all()
    }


async def save(*, session: AsyncSession, rows: list[dict[str, Any]], read: Mapping[int, int]) -> None:
    """Write summaries (`rows`, with every column but version). Each is written only if its version is
    still the one `read` before its inputs were (a patient without one: only if there is still no row), so
    a change of the diary committed meanwhile is not hidden behind figures computed without it."""
    known = [row for row in rows if row["patient_id"] in read]
    new = [dict(row, version=1) for row in rows if row["patient_id"] not in read]
    if known:
        columns = [column for column in known[0] if column != "patient_id"]
        statement = (
            update(SUMMARIES)
            .where(SUMMARIES.c.patient_id == bindparam("_id"), SUMMARIES.c.version == bindparam("_version"))
            .values({column: bindparam(f"_{column}") for column in columns})
        )
        parameters = [
            {"_id": row["patient_id"], "_version": read[row["patient_id"]], **{f"_{c}": row[c] for c in columns}}
            for row in known
        ]
        await execute(session, statement, parameters)
    if new:
        statement = insert(session, SUMMARIES).on_conflict_do_nothing(index_elements=["patient_id"])
        await execute(session, statement, new)  # executemany, in batches (as changed())


# ------------------------------------------------------------------------------------ the panel


async def out_of_date(*, session: AsyncSession, now: datetime, rules: str) -> list[tuple[int, str, bool]]:
    """Patients whose summary is missing or out of date at `now`: (patient id, time zone, whether the
    row keeps what its figures can be computed from again: only the clock or the time zone moved)."""
    s = SUMMARIES.c
    kept = and_(s.fresh_until.is_not(None), s.rules == rules)
    result = await execute(
        session,
        select(PATIENTS.c.id, PATIENTS.c.timezone, kept)
        .outerjoin(SUMMARIES, s.patient_id == PATIENTS.c.id)
        .where(or_(~kept, s.patient_id.is_(None), s.fresh_until < micros(now), s.timezone != PATIENTS.c.timezone)),
    )
    return [(int(p), str(zone), bool(ok)) for p, zone, ok in result.all()]


@dataclass(frozen=True)
class PanelRow:
    """A patient as the panel lists them, with their summary as stored."""

    patient_id: int
    code: str
    status: str  # as bot/diary/roster.shown_status: paused, declined or the patient's own
    open_alerts: int
    due: int
    answered: int
    last_pain: int | None
    usual_pain: float | None
    trend: str | None
    infusion_on: date | None
    relief_now: float | None


def _shown_status(now: datetime) -> Any:
    """The status the panel shows, as bot/diary/roster.shown_status decides it, in SQL (to filter and sort)."""
    return case(
        (and_(PATIENTS.c.status == PatientStatus.ACTIVE, SCHEDULES.c.paused_until > now), ShownStatus.PAUSED.value),
        (
            and_(PATIENTS.c.status == PatientStatus.INVITED, patients.newest_declined().is_not(None)),
            ShownStatus.DECLINED.value,
        ),
        else_=PATIENTS.c.status,
    )


async def statuses(*, session: AsyncSession, now: datetime) -> dict[str, int]:
    """How many patients the panel shows with each status."""
    shown = _shown_status(now).label("shown")
    result = await execute(
        session,
        select(shown, func.count())
        .select_from(PATIENTS.outerjoin(SCHEDULES, SCHEDULES.c.patient_id == PATIENTS.c.id))
        .group_by(shown),
    )
    return {str(status): int(count) for status, count in result.all()}


async def page(
    *, session: AsyncSession, now: datetime, sort: str, status: str | None, offset: int, limit: int
) -> list[PanelRow]:
    """One page of the panel: patients with `status` (None: all) in the order `sort` names, each with their
    summary as stored and how many alerts they have open. What
    is not known (no pain yet, no infusion) goes last; ties go by code."""
    s, shown = SUMMARIES.c, _shown_status(now)
    counted = alerts.active_per_patient().subquery()
    open_alerts = func.coalesce(counted.c[1], 0)
    due, answered = func.coalesce(s.due, 0), func.coalesce(s.answered, 0)
    code = PATIENTS.c.code.collate("C") if session.get_bind().dialect.name == "postgresql" else PATIENTS.c.code
    order = {
        "code": [],
        "status": [shown],
        "adherence": [due == 0, cast(answered, Float) / func.nullif(due, 0)],  # the least adherent first
        "pain": [s.last_pain.is_(None), func.coalesce(s.usual_pain, s.last_pain) - s.last_pain],  # most above usual
        "infusion": [s.infusion_on.is_(None), s.infusion_on],  # the longest since an infusion first
    }.get(sort, [open_alerts.desc()])
    statement = (
        select(
            PATIENTS.c.id,
            PATIENTS.c.code,
            shown,
            open_alerts,
            due,
            answered,
            s.last_pain,
            s.usual_pain,
            s.trend,
            s.infusion_on,
            s.relief_now,
        )
        .select_from(PATIENTS)
        .outerjoin(SCHEDULES, SCHEDULES.c.patient_id == PATIENTS.c.id)
        .outerjoin(SUMMARIES, s.patient_id == PATIENTS.c.id)
        .outerjoin(counted, counted.c[0] == PATIENTS.c.id)
        .order_by(*order, code)
        .offset(offset)
        .limit(limit)
    )
    if status is not None:
        statement = statement.where(shown == status)
    return [PanelRow(*row) for row in (await execute(session, statement)).all()]
