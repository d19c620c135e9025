"""How a check-in looks: the one message's text and buttons for its current step, words from prompts/."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.care_team.text_limits import TEXT_LIMIT, shorten, units
from bot.diary.checkins import Action, CheckInState
from bot.diary.questionnaire import DAILY, Item
from bot.prompts import Catalog
from bot.views.callback_data import checkin_button


def _rows(buttons: list[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def _option_key(item: Item, code: str) -> str:
    return f"scales.{item.scale}.{code}" if item.scale else f"items.{item.id}.options.{code}"


def _option_label(catalog: Catalog, language: str, item: Item, code: str) -> str:
    key = _option_key(item, code)
    return catalog.text(language, key) if catalog.has(language, key) else code


def answer_label(catalog: Catalog, language: str, item: Item, value: str | None) -> str:
    if value is None:
        return catalog.text(language, "checkin.not_answered")
    return value if item.type == "text" else _option_label(catalog, language, item, value)


def _with_note(text: str, note: str) -> str:
    """The check-in's text with the note at the end, shortened with "…" to fit one message: the note
    itself is stored whole and reaches staff whole."""
    return text + shorten(note, TEXT_LIMIT - units(text))


def _header(state: CheckInState, language: str, catalog: Catalog) -> str:
    """ "Check-in · date"; an instrument's own title, then its instructions ("Over the last 2 weeks...")."""
    when = state.local_start.strftime("%Y-%m-%d %H:%M")
    questionnaire = state.questionnaire
    if questionnaire.id == DAILY:
        return catalog.text(language, "checkin.header", date=when)
    title = catalog.text(language, f"questionnaires.{questionnaire.id}.header", date=when)
    return f"{title}\n{catalog.text(language, f'questionnaires.{questionnaire.id}.intro')}"


def render(state: CheckInState, *, language: str, catalog: Catalog) -> tuple[str, InlineKeyboardMarkup]:
    questionnaire = state.questionnaire
    header = _header(state, language, catalog)
    if state.step is None:
        lines = [header, "", catalog.text(language, "checkin.summary")]
        note = ""
        for item in questionnaire.items:
            label = catalog.text(language, f"items.{item.id}.label")
            if item.type == "text" and state.answers.get(item.id):
                note = state.answers[item.id]
                lines.append(f"{label}: ")
                continue
            lines.append(f"{label}: {answer_label(catalog, language, item, state.answers.get(item.id))}")
        edit = InlineKeyboardButton(
            catalog.text(language, "checkin.edit"), callback_data=checkin_button(Action.EDIT, state.id)
        )
        text = "\n".join(lines)
        if note:  # the note comes last in the questionnaire: it is shortened at the end
            text = _with_note(text, note)
        return text, InlineKeyboardMarkup([[edit]])

    asked = questionnaire.item(state.step)
    assert asked is not None
    item = asked
    number = questionnaire.position(item.id) + 1
    progress = catalog.text(language, "checkin.progress", number=number, total=len(questionnaire.items))
    question = catalog.text(language, f"items.{item.id}.question")
    current = state.answers.get(item.id)

    options = []
    for code in item.options:
        label = _option_label(catalog, language, item, code)
        if code == current:
            label = f"✓ {label}"
        options.append(
            InlineKeyboardButton(label, callback_data=checkin_button(Action.ANSWER, state.id, item.id, code))
        )
    labelled = any(catalog.has(language, _option_key(item, code)) for code in item.options)
    width = 6 if not labelled else (1 if len(options) <= 3 else 2)
    keyboard = _rows(options, width)

    navigation = []
    if number > 1:
        navigation.append(
            InlineKeyboardButton(
                catalog.text(language, "checkin.back"),
                callback_data=checkin_button(Action.BACK, state.id, item.id),
            )
        )
    navigation.append(
        InlineKeyboardButton(
            catalog.text(language, "checkin.skip"),
            callback_data=checkin_button(Action.SKIP, state.id, item.id),
        )
    )
    keyboard.append(navigation)
    if not state.answers:  # not started yet: the patient may put it off once (an offered questionnaire: decline)
        daily = questionnaire.id == DAILY
        row = [
            InlineKeyboardButton(
                catalog.text(language, "checkin.skip_today" if daily else "checkin.not_now"),
                callback_data=checkin_button(Action.SKIP_TODAY, state.id),
            )
        ]
        if not state.snoozed:
            row.append(
                InlineKeyboardButton(
                    catalog.text(language, "checkin.snooze" if daily else "checkin.later_today"),
                    callback_data=checkin_button(Action.SNOOZE, state.id),
                )
            )
        keyboard.append(row)
    text = f"{header}\n{progress}\n\n{question}"
    if item.type == "text" and current:
        text = _with_note(text + "\n\n", current)
    return text, InlineKeyboardMarkup(keyboard)
