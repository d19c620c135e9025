"""A picture of a message as a chat shows it: the photo, its caption under it, its buttons in their
rows. The demo draws the cards staff received, so README and a reader of data/demo/ see what staff see."""

from __future__ import annotations

import io
import textwrap
from typing import Any

from bot.sandbox.server import ChatMessage

WIDTH_INCHES = 7.2  # 720 px, the width of the chart it shows
LINE_INCHES = 0.3
WRAP = 62  # characters per caption line at this width and size
DOTS = {"🔴": "#D55E00", "🟠": "#E69F00"}
CAPTION: dict[str, Any] = {"va": "top", "fontsize": 13}
BUTTON: dict[str, Any] = {"ha": "center", "va": "center", "fontsize": 13}


def message_picture(message: ChatMessage) -> bytes:
    """PNG of a photo message with its caption and buttons."""
    import matplotlib.image
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    assert message.photo is not None
    photo = matplotlib.image.imread(io.BytesIO(message.photo), format="png")
    photo_height = WIDTH_INCHES * photo.shape[0] / photo.shape[1]
    lines = [wrapped for line in (message.caption or "").splitlines() for wrapped in textwrap.wrap(line, WRAP) or [""]]
    keyboard = (message.reply_markup or {}).get("inline_keyboard", [])
    rows = [[str(button["text"]) for button in row] for row in keyboard]
    text_height = LINE_INCHES * (len(lines) + 1)
    buttons_height = 0.5 * len(rows)
    height = photo_height + text_height + buttons_height + 0.2

    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=100, facecolor="white")
    image_axis = figure.add_axes((0, 1 - photo_height / height, 1, photo_height / height))
    image_axis.imshow(photo)
    image_axis.set_axis_off()
    top = 1 - (photo_height + 0.15) / height
    for number, line in enumerate(lines):
        y = top - number * LINE_INCHES / height
        dot = DOTS.get(line[:1])
        if dot is not None:  # the tier's coloured circle: matplotlib's fonts have no emoji
            figure.text(0.03, y, "●", color=dot, **CAPTION)
            line = "    " + line[1:]
        figure.text(0.03, y, line, **CAPTION)
    for row_number, row in enumerate(rows):
        bottom = (buttons_height - 0.5 * (row_number + 1) + 0.25) / height
        for column, label in enumerate(row):
            width = 0.94 / len(row)
            left = 0.03 + column * width
            box = FancyBboxPatch(
                (left + 0.005, bottom),
                width - 0.01,
                0.4 / height,
                boxstyle="round,pad=0,rounding_size=0.01",
                transform=figure.transFigure,
                facecolor="#E8EEF4",
                edgecolor="#C5D0DC",
            )
            figure.patches.append(box)
            figure.text(left + width / 2, bottom + 0.2 / height, label, **BUTTON)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
