"""Telegram's limits on what one message may hold, counted as Telegram counts: in UTF-16 code units.

A message text may hold 4096 units and a caption 1024; an emoji outside the Basic Multilingual Plane
counts twice. Nothing a patient wrote is ever cut here without the whole of it being stored and
passed on elsewhere: `split` keeps every character, `shorten` is for views of stored text.
"""

from __future__ import annotations

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
    if units(header) + units(text) <= limit:
        return [header + text]

    def numbered(part: int, parts: int) -> str:
        return numbered_header.replace("{part}", str(part)).replace("{parts}", str(parts))

    pieces = split(text, limit - units(numbered(999, 999)))
    return [numbered(n, len(pieces)) + piece for n, piece in enumerate(pieces, 1)]


def with_links(text: str, links: list[tuple[int, int, str]]) -> str:
    """`text` with the address of each link hidden behind its words written after them ("click here
    (https://…)"): formatted text shows only the words, and a reader of the text alone would lose the
    address (or, in an invite link, see no token to keep from the staff chat). `links`: (offset, length,
    address) in UTF-16 units, as Telegram places a text_link; one whose words are its address adds nothing.
    Half of an emoji (a lone surrogate, which storage then replaces) is one unit here too, not a failure that
    would lose the words."""
    encoded = text.encode("utf-16-le", "surrogatepass")

    def piece(start: int, end: int) -> str:
        return encoded[2 * start : 2 * end].decode("utf-16-le", "surrogatepass")

    def between_characters(at: int) -> bool:  # not inside an emoji's pair of units
        return at == len(encoded) // 2 or not 0xDC00 <= int.from_bytes(encoded[2 * at : 2 * at + 2], "little") <= 0xDFFF

    out, done = [], 0
    for offset, length, address in sorted(links):
        end = offset + length
        if offset < done or end > units(text) or not (between_characters(offset) and between_characters(end)):
            continue  # not a place in this text: nothing to add there
        out.append(piece(done, end))
        if piece(offset, end).strip() != address:
            out.append(f" ({address})")
        done = end
    out.append(piece(done, len(encoded) // 2))
    return "".join(out)
