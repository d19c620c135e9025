"""Callback data is untrusted: any string parses to a valid button or to None, never an exception."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.alerts.desk import StaffAction
from bot.diary.checkins import Action
from bot.views.callback_data import (
    alert_button,
    checkin_button,
    consent_button,
    delete_button,
    parse_alert,
    parse_checkin,
    parse_consent,
    parse_delete,
    parse_language,
)


@given(st.one_of(st.text(max_size=80), st.binary(max_size=64).map(lambda b: b.decode("latin-1")), st.none()))
def test_any_data_parses_or_is_refused(data: str | None) -> None:
    for parse in (parse_checkin, parse_consent, parse_language, parse_delete, parse_alert):
        parse(data)  # must not raise


@given(
    st.sampled_from(list(Action)),
    st.integers(1, 10**12 - 1),
    st.sampled_from(["pain", "skin_color", "mood"]),
    st.sampled_from(["0", "10", "blue_purple", "5"]),
)
def test_our_buttons_round_trip_within_64_bytes(action: Action, checkin_id: int, item: str, value: str) -> None:
    data = checkin_button(action, checkin_id, item, value)
    assert len(data.encode()) <= 64
    parsed = parse_checkin(data)
    assert parsed is not None and (parsed.action, parsed.checkin_id, parsed.item, parsed.value) == (
        action,
        checkin_id,
        item,
        value,
    )


def test_consent_data() -> None:
    token = "A" * 24
    assert parse_consent(consent_button(True, token)) == (True, token)
    assert parse_consent(consent_button(False, token)) == (False, token)
    assert parse_consent("cs:n") == (False, None)
    assert parse_consent("cs:y:" + "A" * 65) is None


def test_erasure_data_names_the_record_a_yes_erases() -> None:
    yes, no = parse_delete(delete_button(True, 41)), parse_delete(delete_button(False, 41))
    assert yes is not None and (yes.confirmed, yes.patient_id) == (True, 41)
    assert no is not None and not no.confirmed
    old = parse_delete("dl:y")  # a Yes sent before it named its record: asked again, never erases
    assert old is not None and old.confirmed and old.patient_id is None
    assert parse_delete("dl:n:41") is None and parse_delete("dl:y:") is None


@given(
    st.sampled_from(list(StaffAction)),
    st.integers(1, 10**12 - 1),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
)
def test_an_alert_button_carries_the_card_it_was_on_within_64_bytes(
    action: StaffAction, alert_id: int, opened_at: datetime, event_at: datetime
) -> None:
    """When the alert opened and when the newest finding the card showed was made: a press acts on what it saw."""
    data = alert_button(action, alert_id, opened_at, event_at)
    assert len(data.encode()) <= 64
    assert parse_alert(data) == (action, alert_id, opened_at, event_at)
    assert parse_alert(f"al:{action.value}:{alert_id}") == (action, alert_id, None, None), "a button sent before"
