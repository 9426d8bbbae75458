"""Status colours that stay readable in the system's light AND dark theme.

Everything else in the window uses the palette Qt takes from the system. The few coloured
texts (connected, error, warning, a muted hint) pick a dark shade on a light window and a
light shade on a dark one; the muted hint is a blend of the palette's own text and window
colours, so it follows any theme.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette

# (on a light window, on a dark window)
_STATUS = {
    "ok": ("#1b6e20", "#81c784"),
    "error": ("#b00020", "#ff8a80"),
    "warn": ("#8a5300", "#ffcc80"),
}


def palette() -> QPalette:
    return QGuiApplication.palette()


def is_dark(pal: QPalette | None = None) -> bool:
    """True when the window background is darker than its text (a dark theme)."""
    pal = pal or palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < pal.color(QPalette.ColorRole.WindowText).lightness()


def muted(pal: QPalette | None = None) -> QColor:
    """Secondary text: 60 % of the way from the window colour to the text colour."""
    pal = pal or palette()
    text, window = pal.color(QPalette.ColorRole.WindowText), pal.color(QPalette.ColorRole.Window)
    mix = 0.6
    return QColor(round(window.red() + (text.red() - window.red()) * mix),
                  round(window.green() + (text.green() - window.green()) * mix),
                  round(window.blue() + (text.blue() - window.blue()) * mix))


def colour(kind: str, pal: QPalette | None = None) -> QColor:
    """The colour for ``kind``: 'ok', 'error', 'warn' or 'muted'."""
    if kind == "muted":
        return muted(pal)
    light, dark = _STATUS[kind]
    return QColor(dark if is_dark(pal) else light)


def colour_css(kind: str) -> str:
    """A ``color: …;`` style-sheet fragment for ``kind`` in the current theme."""
    return f"color: {colour(kind).name()};"
