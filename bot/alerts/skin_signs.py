"""What a check-in's skin answers say about a CRPS flare, as evidence the rules can add up.

A flare of CRPS often changes the limb's skin colour, temperature or swelling against the other
side; in a calm spell such answers are rare, stray ones. Each answered item is weighed by how much
likelier its answer is in a flare than in a calm spell (the log of the ratio): a changed answer
counts for the flare, an unchanged one a little against it. Summed over check-ins (a one-sided
CUSUM), three or four changed answers within a few check-ins stand out, one stray answer does not.

The calm share is the patient's own (over the last weeks) where it is higher than the assumed one:
a patient whose skin often looks different (a limb that stays redder) gets little evidence from
it, and none from an item changed at least as often as in a flare.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime, timedelta
from typing import Protocol

ITEMS = ("skin_color", "skin_temperature", "swelling")
# The patient's own share is counted as if they had also given this many answers at the assumed calm
# share: a few answers say little (one changed answer of two is not a limb that stays changed).
PRIOR_ANSWERS = 20
VASOMOTOR = ("skin_color", "skin_temperature")

# Answers that say nothing has changed. "normal" is the earlier, absolute colour question's answer.
USUAL = {
    "skin_color": frozenset({"same", "normal"}),
    "skin_temperature": frozenset({"same"}),
    "swelling": frozenset({"none"}),
}
# "I can't tell" is no answer about the sign, neither a change nor its absence.
UNSURE = frozenset({"cant_tell"})


class Answers(Protocol):
    """A check-in's skin answers (a diary Point)."""

    @property
    def at(self) -> datetime: ...
    @property
    def skin_color(self) -> str | None: ...
    @property
    def skin_temperature(self) -> str | None: ...
    @property
    def swelling(self) -> str | None: ...


def changed(item: str, value: str | None) -> bool | None:
    """Whether an answer reports a change against the other side; None when it says nothing."""
    if value is None or value in UNSURE:
        return None
    return value not in USUAL[item]


def answers(point: Answers) -> dict[str, bool]:
    """The items this check-in answered, each with whether it reported a change."""
    found = {item: changed(item, getattr(point, item)) for item in ITEMS}
    return {item: value for item, value in found.items() if value is not None}


class SignEvidence:
    """Each check-in's evidence of a flare from its skin answers, against the patient's own calm share.

    `flare_share`: the share of answers per item assumed to report a change during a flare;
    `calm_share`: the same assumed for a calm spell, replaced by the patient's own share over the
    last `days` days when that is higher.
    """

    def __init__(self, *, flare_share: float, calm_share: float, days: int) -> None:
        self.flare_share, self.calm_share = flare_share, calm_share
        self.span = timedelta(days=days)
        self.seen: deque[tuple[datetime, dict[str, bool]]] = deque()
        self.answered = dict.fromkeys(ITEMS, 0)
        self.changes = dict.fromkeys(ITEMS, 0)

    def weigh(self, point: Answers) -> float:
        """This check-in's evidence (0 when it answered no skin item), then remember its answers."""
        while self.seen and self.seen[0][0] < point.at - self.span:
            for item, value in self.seen.popleft()[1].items():
                self.answered[item] -= 1
                self.changes[item] -= value
        given = answers(point)
        total = sum(self._weight(item, value) for item, value in given.items())
        self.seen.append((point.at, given))
        for item, value in given.items():
            self.answered[item] += 1
            self.changes[item] += value
        return total

    def _weight(self, item: str, value: bool) -> float:
        own = (self.changes[item] + PRIOR_ANSWERS * self.calm_share) / (self.answered[item] + PRIOR_ANSWERS)
        calm = max(self.calm_share, own)
        if calm >= self.flare_share:
            return 0.0  # as often changed as in a flare: says nothing
        if value:
            return math.log(self.flare_share / calm)
        return math.log((1 - self.flare_share) / (1 - calm))
