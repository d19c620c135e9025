"""The statuses rows move through. Each value is the string the database stores (the columns stay plain
strings, so these enums needed no migration): compare and assign members, never bare strings, so that
a misspelt status is a name error and not a comparison that is always false."""

from __future__ import annotations

import enum


class PatientStatus(enum.StrEnum):
    INVITED = "invited"  # an invite made, not accepted yet
    ACTIVE = "active"
    UNREACHABLE = "unreachable"  # blocked the bot (403): no check-ins until they write to it again
    DISCHARGED = "discharged"  # the record kept, the schedule stopped


class ShownStatus(enum.StrEnum):
    """What staff are shown of a patient (the patient list, the console's panel, the visit report): the
    patient's status, with an active patient's pause and an invited patient's refused consent told
    apart. In the order the panel lists them."""

    ACTIVE = "active"
    PAUSED = "paused"  # active, with check-ins paused (/pause)
    UNREACHABLE = "unreachable"
    INVITED = "invited"
    DECLINED = "declined"  # invited, and pressed "No, thank you" on the consent screen
    DISCHARGED = "discharged"


class CheckInStatus(enum.StrEnum):
    OPEN = "open"  # answerable until its closing time
    MISSED = "missed"  # never sent (too late) or never answered
    SKIPPED = "skipped"  # "Skip today"


class OutboxStatus(enum.StrEnum):
    """pending -> sending -> sent. A row left `sending` longer than the lease by a process that died is
    pending again (sent at least once)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    SKIPPED = "skipped"  # nothing to send any more (a check-in closed before its turn came)
    BLOCKED = "blocked"  # 403: the patient blocked the bot
    FAILED = "failed"  # refused by Telegram, or given up
    UNCERTAIN = "uncertain"  # only on rows from before at-least-once delivery


# Rows still owed: waiting for their turn, or in a sender's hands.
OWED = (OutboxStatus.PENDING, OutboxStatus.SENDING)


class AlertStatus(enum.StrEnum):
    """open -> acknowledged -> resolved; snoozed: quiet until its snooze ends. Digest alerts are resolved
    once a digest has listed them."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


# An alert staff have not closed: a new finding of its rule updates it instead of opening another.
ACTIVE_ALERT_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.SNOOZED)
