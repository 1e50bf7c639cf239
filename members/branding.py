"""A program's look on member pages: its colours as CSS custom properties, served as a stylesheet
generated per program (members.views.brand_css), so no page needs an inline <style> and the strict
CSP (style-src 'self') holds. Pure: colours in, CSS out.

The colours are validated as #rrggbb by the model; anything else falls back to the defaults, so
nothing a staff member types can break out of the stylesheet.
"""

import hashlib
import re

from members.models import Program

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_PRIMARY, DEFAULT_ACCENT = "#4338ca", "#f59e0b"
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}
LOGO_MAX_BYTES = 200 * 1024


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def _mix(color: str, other: str, weight: float) -> str:
    """`weight` of `other` mixed into `color`."""
    a, b = _rgb(color), _rgb(other)
    return _hex(tuple(x * (1 - weight) + y * weight for x, y in zip(a, b, strict=True)))


def _luminance(color: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def brand_colors(program: Program) -> dict[str, str]:
    primary = program.brand_color if HEX.match(program.brand_color or "") else DEFAULT_PRIMARY
    accent = program.brand_accent if HEX.match(program.brand_accent or "") else DEFAULT_ACCENT
    # Text on the primary colour: white, unless the colour is so light that dark text reads better.
    on_primary = "#ffffff" if contrast(primary, "#ffffff") >= contrast(primary, "#1c2033") else "#1c2033"
    return {
        "--color-primary": primary.lower(),
        "--color-primary-strong": _mix(primary, "#000000", 0.2),
        "--color-primary-soft": _mix(primary, "#ffffff", 0.9),
        "--color-on-primary": on_primary,
        "--color-focus": accent.lower(),
    }


def brand_css(program: Program) -> str:
    rules = "".join(f"  {name}: {value};\n" for name, value in brand_colors(program).items())
    return f"/* {program.slug}: generated from the program's colours */\n:root {{\n{rules}}}\n"


def brand_version(program: Program) -> str:
    """Changes whenever the stylesheet or the logo would: the URLs carry it, so browsers may cache them."""
    seed = f"{program.brand_color}{program.brand_accent}{program.logo.name if program.logo else ''}"
    return hashlib.sha256(seed.encode()).hexdigest()[:10]


def logo_type(head: bytes) -> str | None:
    """The image type of a logo's first bytes: PNG, JPEG or WebP only (no SVG: it can carry scripts)."""
    for magic, content_type in LOGO_TYPES.items():
        if head.startswith(magic) and (content_type != "image/webp" or head[8:12] == b"WEBP"):
            return content_type
    return None
