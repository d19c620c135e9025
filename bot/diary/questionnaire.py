"""The questionnaire definition (prompts/questionnaires/*.yaml) and the rules for moving through it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from bot.prompts import PROMPTS_DIR

ItemType = Literal["scale", "choice", "text"]


@dataclass(frozen=True)
class Item:
    id: str
    type: ItemType
    options: tuple[str, ...] = ()
    loinc: str | None = None

    def accepts(self, value: str) -> bool:
        """Whether a button's value belongs to this item's scale (callback data is untrusted)."""
        return self.type != "text" and value in self.options


@dataclass(frozen=True)
class Questionnaire:
    id: str
    items: tuple[Item, ...]

    @classmethod
    def load(cls, name: str = "daily", directory: Path = PROMPTS_DIR / "questionnaires") -> Questionnaire:
        data = yaml.safe_load((directory / f"{name}.yaml").read_text(encoding="utf-8"))
        items = []
        for raw in data["items"]:
            if raw["type"] == "scale":
                options = tuple(str(n) for n in range(int(raw["min"]), int(raw["max"]) + 1))
            else:
                options = tuple(str(code) for code in raw.get("options", ()))
            items.append(Item(id=raw["id"], type=raw["type"], options=options, loinc=raw.get("loinc")))
        return cls(id=data["id"], items=tuple(items))

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
