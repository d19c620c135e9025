"""The questionnaires (prompts/questionnaires/*.yaml): items, how to move through them, and how an
instrument is scored by its published rules. No Telegram here."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from bot.prompts import PROMPTS_DIR

ItemType = Literal["scale", "choice", "text"]
DAILY = "daily"


@dataclass(frozen=True)
class Item:
    id: str
    type: ItemType
    options: tuple[str, ...] = ()
    loinc: str | None = None
    # Option labels shared by several items (prompts/messages: scales.<name>.<code>); None: the item's own.
    scale: str | None = None

    def accepts(self, value: str) -> bool:
        """Whether a button's value belongs to this item's scale (callback data is untrusted)."""
        return self.type != "text" and value in self.options


@dataclass(frozen=True)
class Band:
    lowest: int  # the lowest total in the band
    name: str


@dataclass(frozen=True)
class Score:
    total: int
    band: str


@dataclass(frozen=True)
class StepUp:
    """A total of at least `at_least` continues the same day with the longer questionnaire `to`."""

    at_least: int
    to: str


@dataclass(frozen=True)
class CrisisItem:
    """An answer of at least `at_least` to this item is handled as a crisis message is."""

    item: str
    at_least: int


@dataclass(frozen=True)
class Questionnaire:
    id: str
    items: tuple[Item, ...]
    # Offered after a completed daily check-in when none was answered or declined for this many days;
    # None: never offered by itself (the daily diary, or a step-up).
    every_days: int | None = None
    bands: tuple[Band, ...] = ()  # scored: the sum of the option codes of every item
    step_up: StepUp | None = None
    crisis_item: CrisisItem | None = None

    @classmethod
    def load(cls, name: str = DAILY, directory: Path = PROMPTS_DIR / "questionnaires") -> Questionnaire:
        return cls.parse(yaml.safe_load((directory / f"{name}.yaml").read_text(encoding="utf-8")))

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Questionnaire:
        items = []
        for raw in data["items"]:
            if raw["type"] == "scale":
                options = tuple(str(n) for n in range(int(raw["min"]), int(raw["max"]) + 1))
            else:
                options = tuple(str(code) for code in raw.get("options", ()))
            items.append(
                Item(id=raw["id"], type=raw["type"], options=options, loinc=raw.get("loinc"), scale=raw.get("scale"))
            )
        score = data.get("score") or {}
        bands = tuple(Band(int(lowest), str(name)) for lowest, name in (score.get("bands") or {}).items())
        step_up = data.get("step_up")
        crisis_item = data.get("crisis_item")
        questionnaire = cls(
            id=data["id"],
            items=tuple(items),
            every_days=data.get("every_days"),
            bands=tuple(sorted(bands, key=lambda band: band.lowest)),
            step_up=StepUp(int(step_up["at_least"]), str(step_up["to"])) if step_up else None,
            crisis_item=CrisisItem(str(crisis_item["item"]), int(crisis_item["at_least"])) if crisis_item else None,
        )
        if questionnaire.bands and any(not code.isdigit() for item in items for code in item.options):
            raise ValueError(f"questionnaire {questionnaire.id}: a scored questionnaire has numeric option codes")
        if crisis_item and questionnaire.item(crisis_item["item"]) is None:
            raise ValueError(f"questionnaire {questionnaire.id}: crisis_item names no item")
        return questionnaire

    @property
    def first(self) -> str:
        return self.items[0].id

    def item(self, item_id: str) -> Item | None:
        return next((item for item in self.items if item.id == item_id), None)

    def position(self, item_id: str) -> int:
        return [item.id for item in self.items].index(item_id)

    def after(self, item_id: str) -> str | None:
        """The next item, or None when the summary comes next."""
        index = self.position(item_id) + 1
        return self.items[index].id if index < len(self.items) else None

    def before(self, item_id: str | None) -> str:
        """The previous item (from the summary: the last item); the first item stays where it is."""
        index = len(self.items) if item_id is None else self.position(item_id)
        return self.items[max(index - 1, 0)].id

    @property
    def has_note(self) -> bool:
        return any(item.type == "text" for item in self.items)

    def score(self, answers: Mapping[str, str]) -> Score | None:
        """The total and its band by the instrument's published rules; None when the questionnaire is not
        scored or an item is unanswered (a partial total would read lower than the patient's state)."""
        if not self.bands or any(item.id not in answers for item in self.items):
            return None
        total = sum(int(answers[item.id]) for item in self.items)
        band = [band.name for band in self.bands if band.lowest <= total][-1]
        return Score(total, band)

    def is_crisis_answer(self, item_id: str, value: str | None) -> bool:
        crisis = self.crisis_item
        return crisis is not None and crisis.item == item_id and value is not None and int(value) >= crisis.at_least


class Questionnaires(Mapping[str, Questionnaire]):
    """Every questionnaire in the folder, by id; `daily` is the diary itself."""

    def __init__(self, questionnaires: list[Questionnaire]) -> None:
        self._by_id = {questionnaire.id: questionnaire for questionnaire in questionnaires}
        for questionnaire in questionnaires:
            if questionnaire.step_up and questionnaire.step_up.to not in self._by_id:
                raise ValueError(f"questionnaire {questionnaire.id}: steps up to unknown {questionnaire.step_up.to}")

    @classmethod
    def load(cls, directory: Path = PROMPTS_DIR / "questionnaires") -> Questionnaires:
        return cls([Questionnaire.load(path.stem, directory) for path in sorted(directory.glob("*.yaml"))])

    def __getitem__(self, questionnaire_id: str) -> Questionnaire:
        return self._by_id[questionnaire_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    @property
    def daily(self) -> Questionnaire:
        return self._by_id[DAILY]

    def offered(self, enabled: tuple[str, ...]) -> list[Questionnaire]:
        """The instruments the clinic turned on that are offered by themselves, on their cadence."""
        return [self._by_id[name] for name in enabled if name in self._by_id and self._by_id[name].every_days]
