"""Telegram's limits on what one message may hold, counted as Telegram counts: in UTF-16 code units.

A message text may hold 4096 units and a caption 1024; an emoji outside the Basic Multilingual Plane
counts twice. Nothing a patient wrote is ever cut here without the whole of it being stored and
passed on elsewhere: `split` keeps every character, `shorten` is for views of stored text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import timedelta

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
# Telegram's app sends a text longer than a message may be as several messages. Their parts come with the same date
# or a second apart (its dates are whole seconds), and only after a part about as long as a message may be (the app
# cuts at a line or a space near the limit): a message typed a few seconds after a long one is a message of its own.
# Only the first part carries what the text replies to: the rest goes where the first went.
SPLIT_APART = timedelta(seconds=2)
SPLIT_PART = TEXT_LIMIT * 7 // 8
ANSWER_LIMIT = 200  # the words of a button's answer (answerCallbackQuery)
ELLIPSIS = "…"
# Around words a patient struck out (Telegram's strikethrough) in the text kept and shown to staff: "I took ~~3~~ 2
# tablets" says 2, and read without the formatting it said 3 and 2. Crisis language reads such words struck out too.
STRUCK = "~~"


def units(text: str) -> int:
    """Length in UTF-16 code units (half of an emoji, a lone surrogate, counts one, as Telegram counts it)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _prefix_within(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` units (never half of a surrogate pair)."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def shorten(text: str, limit: int) -> str:
    """`text`, or as much of it as fits with "…" at the end."""
    if units(text) <= limit:
        return text
    return text[: _prefix_within(text, limit - units(ELLIPSIS))].rstrip() + ELLIPSIS


def around(text: str, start: int, end: int, limit: int) -> str:
    """`text`, or the passage around text[start:end] that fits in `limit` units, with "…" where it was cut:
    as much before as after, at spaces where there are some."""
    if units(text) <= limit:
        return text
    middle = text[start:end]
    room = limit - units(middle) - 2 * units(ELLIPSIS)
    if room <= 0:
        return shorten(ELLIPSIS + middle if start else middle, limit)  # "…" only where something was cut
    before, after = text[:start], text[end:]
    before_room = max(room // 2, room - units(after))
    after_room = room - min(before_room, units(before))
    kept_before = before[len(before) - _prefix_within(before[::-1], before_room) :]
    cut_before = len(before) - len(kept_before)
    if cut_before and not before[cut_before - 1].isspace() and " " in kept_before:
        kept_before = kept_before[kept_before.index(" ") + 1 :]  # not the end of a word cut in half
    kept_after = after[: _prefix_within(after, after_room)]
    if len(kept_after) < len(after) and not after[len(kept_after)].isspace() and " " in kept_after:
        kept_after = kept_after[: kept_after.rindex(" ")]  # nor the start of one
    passage = kept_before + middle + kept_after
    if len(kept_before) < len(before):
        passage = ELLIPSIS + passage.lstrip()
    if len(kept_after) < len(after):
        passage = passage.rstrip() + ELLIPSIS
    return passage


def split(text: str, limit: int) -> list[str]:
    """Cut `text` into pieces of at most `limit` units, at a line break or a space where there is one
    in the second half of a piece. Joined again, the pieces give back the text exactly."""
    if limit < 2:
        raise ValueError("limit must leave room for a character")
    pieces: list[str] = []
    rest = text
    while units(rest) > limit:
        end = _prefix_within(rest, limit)
        cut = max(rest.rfind("\n", 0, end), rest.rfind(" ", 0, end)) + 1
        if cut <= end // 2:  # no convenient break: cut in the word
            cut = end
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    return pieces


def in_parts(text: str, header: str, numbered_header: str, *, limit: int = TEXT_LIMIT) -> list[str]:
    """Messages that carry all of `text` under a header: `header` when one message is enough, else
    `numbered_header` (with {part} and {parts}) above each piece. Only those two are filled in: the header
    may hold other braces (a staff member's name, "Sam {ICU}")."""
    return [above + piece for above, piece in _headed(text, header, numbered_header, limit)]


def _headed(text: str, header: str, numbered_header: str, limit: int) -> list[tuple[str, str]]:
    """(header, piece) of each message `in_parts` makes."""
    if units(header) + units(text) <= limit:
        return [(header, text)]

    def numbered(part: int, parts: int) -> str:
        return numbered_header.replace("{part}", str(part)).replace("{parts}", str(parts))

    pieces = split(text, limit - units(numbered(999, 999)))
    return [(numbered(n, len(pieces)), piece) for n, piece in enumerate(pieces, 1)]


@dataclass(frozen=True)
class Entity:
    """Formatting of a stretch of words (Telegram's MessageEntity): `offset` and `length` in UTF-16 units."""

    type: str
    offset: int
    length: int
    url: str | None = None  # a text_link's address
    language: str | None = None  # a pre block's programming language

    def as_json(self) -> dict[str, object]:
        return {key: value for key, value in asdict(self).items() if value is not None}


# What a staff member's formatting may carry to a patient: how words look ("Take ~~two~~ one tablet" says one). Not
# what Telegram finds in the words by itself on the patient's side too (a typed link, a @mention, a /command), nor
# a text_mention (a link to a colleague's profile: staff names reach patients only if the clinic says so) or a custom
# emoji (a bot may not send those; its emoji shows without it).
FORMATTING = frozenset(
    {
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "pre",
        "text_link",
        "blockquote",
        "expandable_blockquote",
    }
)


def with_quote(quote: str, text: str, entities: Sequence[Entity]) -> tuple[str, list[Entity]]:
    """`text` (formatted by `entities`) under `quote`, the words it answers, as Telegram shows a quote: a blockquote
    above it."""
    shift = units(quote) + 1
    moved = [replace(entity, offset=entity.offset + shift) for entity in entities]
    return f"{quote}\n{text}", [Entity("blockquote", 0, units(quote)), *moved]


def in_formatted_parts(
    text: str, entities: Sequence[Entity], header: str, numbered_header: str, *, limit: int = TEXT_LIMIT
) -> list[tuple[str, list[Entity]]]:
    """`in_parts`, each message with the share of `entities` (of `text`) that falls in its piece, placed after its
    header: a bold sentence cut in two is bold in both messages."""
    out: list[tuple[str, list[Entity]]] = []
    start = 0
    for above, piece in _headed(text, header, numbered_header, limit):
        end = start + units(piece)
        shift = units(above) - start
        kept = [
            Entity(
                e.type,
                max(e.offset, start) + shift,
                min(e.offset + e.length, end) - max(e.offset, start),
                e.url,
                e.language,
            )
            for e in entities
            if max(e.offset, start) < min(e.offset + e.length, end)
        ]
        out.append((above + piece, kept))
        start = end
    return out


def with_links(text: str, links: list[tuple[int, int, str]]) -> str:
    """`text` with the address of each link hidden behind its words written after them ("click here
    (https://…)"): formatted text shows only the words, and a reader of the text alone would lose the
    address (or, in an invite link, see no token to keep from the staff chat). `links`: (offset, length,
    address) in UTF-16 units, as Telegram places a text_link; one whose words are its address adds nothing.
    Half of an emoji (a lone surrogate, which storage then replaces) is one unit here too, not a failure that
    would lose the words."""
    return formatted_with_links(text, [Entity("text_link", o, n, url) for o, n, url in links])[0]


def formatted_with_links(text: str, entities: Sequence[Entity]) -> tuple[str, list[Entity]]:
    """`with_links` for formatted text: the text with each text_link's address written after its words, and
    `entities` moved to where their words now are (a stretch the address is written into grows by it)."""
    encoded = text.encode("utf-16-le", "surrogatepass")
    total = len(encoded) // 2

    def piece(start: int, end: int) -> str:
        return encoded[2 * start : 2 * end].decode("utf-16-le", "surrogatepass")

    def between_characters(at: int) -> bool:  # not inside an emoji's pair of units
        return at == total or not 0xDC00 <= int.from_bytes(encoded[2 * at : 2 * at + 2], "little") <= 0xDFFF

    added: list[tuple[int, str]] = []  # (where, the address written there)
    done = 0
    links = sorted((e.offset, e.length, e.url) for e in entities if e.type == "text_link" and e.url)
    for offset, length, address in links:
        end = offset + length
        if offset < done or end > total or not (between_characters(offset) and between_characters(end)):
            continue  # not a place in this text: nothing to add there
        if piece(offset, end).strip() != address:
            added.append((end, f" ({address})"))
        done = end
    out, at = [], 0
    for where, address in added:
        out += [piece(at, where), address]
        at = where
    out.append(piece(at, total))

    def moved(place: int, *, end: bool) -> int:  # an address written where a stretch ends is not in it
        return place + sum(units(address) for where, address in added if where < place or (where == place and not end))

    placed = [
        Entity(
            e.type,
            moved(e.offset, end=False),
            moved(e.offset + e.length, end=True) - moved(e.offset, end=False),
            e.url,
            e.language,
        )
        for e in entities
    ]
    return "".join(out), placed


QUOTES = frozenset({"blockquote", "expandable_blockquote"})


def as_words(text: str, entities: Sequence[Entity]) -> str:
    """`text` as words alone, where its formatting cannot go (Telegram refused it; staff told of words that did not
    reach a patient): the lines a quote covers begun with "> ", on lines of their own, as quoted words are written
    (shown plain, "Your care team: Can I take another tablet?" read as the care team asking what the patient did), and
    words struck out between STRUCK marks (struck_out)."""
    encoded = text.encode("utf-16-le", "surrogatepass")
    total = len(encoded) // 2

    def unit(at: int) -> int:
        return int.from_bytes(encoded[2 * at : 2 * at + 2], "little")

    # (where, how many units from there are replaced, by what): a quote's first line, after others on its line, is
    # begun on a line of its own (the spaces before it dropped), and each of its lines with "> ".
    edits: list[tuple[int, int, str]] = []
    for e in sorted((e for e in entities if e.type in QUOTES), key=lambda e: e.offset):
        start, end = e.offset, min(e.offset + e.length, total)
        if start >= end or (edits and start < edits[-1][0]):
            continue
        spaces = 0
        while start - spaces > 0 and unit(start - spaces - 1) in (0x20, 0x09):
            spaces += 1
        if start - spaces == 0 or unit(start - spaces - 1) == 0x0A:
            edits.append((start, 0, "> "))
        else:
            edits.append((start - spaces, spaces, "\n> "))
        edits += [(at + 1, 0, "> ") for at in range(start, end - 1) if unit(at) == 0x0A]
    if not edits:
        return struck_out(text, entities)
    out, done = [], 0
    for where, removed, written in edits:
        out += [encoded[2 * done : 2 * where].decode("utf-16-le", "surrogatepass"), written]
        done = where + removed
    out.append(encoded[2 * done :].decode("utf-16-le", "surrogatepass"))

    def moved(place: int, *, end: bool) -> int:  # where a place in `text` is in the words written
        shift = 0
        for where, removed, written in edits:
            if where > place or (where == place and end):  # "> " written where a stretch ends is not in it
                break
            shift += units(written) - min(removed, place - where)
        return place + shift

    struck = [
        replace(
            e,
            offset=moved(e.offset, end=False),
            length=moved(e.offset + e.length, end=True) - moved(e.offset, end=False),
        )
        for e in entities
        if e.type == "strikethrough"
    ]
    return struck_out("".join(out), struck)


def struck_out(text: str, entities: Sequence[Entity]) -> str:
    """`text` with each stretch its strikethrough `entities` cover between STRUCK marks ("I took ~~3~~ 2 tablets"),
    the rest as it is. A stretch inside another, or not between characters, is marked as the one around it is."""
    encoded = text.encode("utf-16-le", "surrogatepass")
    total = len(encoded) // 2

    def between_characters(at: int) -> bool:  # not inside an emoji's pair of units
        return at == total or not 0xDC00 <= int.from_bytes(encoded[2 * at : 2 * at + 2], "little") <= 0xDFFF

    out, done = [], 0
    for e in sorted(entities, key=lambda e: (e.offset, -e.length)):
        start, end = e.offset, min(e.offset + e.length, total)
        if e.type != "strikethrough" or start < done or start >= end or not between_characters(start):
            continue
        if not between_characters(end):
            end += 1  # the rest of the emoji it ends inside
        stretch = encoded[2 * start : 2 * end].decode("utf-16-le", "surrogatepass")
        # Spaces around the struck words stay outside the marks, where Markdown's reader would look for them.
        inner = stretch.strip()
        if not inner:
            continue
        lead = stretch[: len(stretch) - len(stretch.lstrip())]
        trail = stretch[len(stretch.rstrip()) :]
        out += [encoded[2 * done : 2 * start].decode("utf-16-le", "surrogatepass"), lead, STRUCK, inner, STRUCK, trail]
        done = end
    out.append(encoded[2 * done :].decode("utf-16-le", "surrogatepass"))
    return "".join(out)
