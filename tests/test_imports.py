"""Where code may reach: read from the source, so a new import in the wrong direction fails here."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Handlers adapt Telegram updates; what renders (bot/views/) and everything below them must not need them.
BELOW_HANDLERS = [
    "bot/views",
    "bot/delivery",
    "bot/cli",
    "bot/console",
    "bot/alerts",
    "bot/diary",
    "bot/records",
    "bot/services.py",
    "storage",
]


def imported(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in the file, `from x import y` as x and x.y."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def sources(*folders: str) -> list[Path]:
    paths = [ROOT / folder for folder in folders]
    return sorted(found for path in paths for found in ([path] if path.is_file() else path.rglob("*.py")))


def test_nothing_below_the_handlers_imports_them() -> None:
    files = sources(*BELOW_HANDLERS)
    assert len(files) > 50, "the folders were found"
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module in imported(path)
        if module == "bot.handlers" or module.startswith("bot.handlers.")
    ]
    assert not wrong, "\n".join(wrong)


def test_no_private_module_of_python_telegram_bot_is_imported() -> None:
    """Its private modules (telegram._utils, telegram._bot, ...) change without notice between releases;
    what a subclass needs is public (bot/delivery/telegram_http.py reads time-outs through
    BaseRequest.DEFAULT_NONE rather than telegram._utils' DefaultValue)."""
    files = sources("bot", "storage", "tests", "bench")
    assert ROOT / "bot" / "delivery" / "telegram_http.py" in files
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module in imported(path)
        if module.startswith(("telegram._", "telegram.ext._", "telegram.request._"))
    ]
    assert not wrong, "\n".join(wrong)
