"""Codes a scanner reads: a standard QR code and a Code 128 barcode, as inline SVG for pages and as
PNG for emails (mail clients drop SVG). Drawn on the server: no script, no CDN.

Why these two: segno picks a Micro QR whenever the data fits one, and Micro QR is not read by
OpenCV, zbar or most till scanners, so the QR is forced to a full symbol. Code 128 is what a
1D laser scanner at a till reads; it carries the same text. Both keep the quiet zone their specs
ask for (4 modules around a QR, 10 on each side of a barcode): scanners fail without it.
"""

import io
import uuid
from dataclasses import dataclass
from email.mime.image import MIMEImage
from html import escape

import barcode
import segno
from barcode.charsets import code128
from django.core.mail import EmailMultiAlternatives
from django.utils.safestring import SafeString, mark_safe
from PIL import Image, ImageDraw

QR_QUIET_ZONE = 4
CODE128_QUIET_ZONE = 10
CODE128_HEIGHT = 40  # modules: bars about a sixth of their width, readable by a phone camera too
# CSS pixels per module on screen. A whole number: bars scaled by 1.9 are drawn 1 or 2 pixels wide
# at random and zbar reads nothing; narrower screens shrink it (max-width), and have 2-3 device
# pixels per CSS pixel.
CODE128_SCREEN_PX = 2


def _qr(data: str) -> segno.QRCode:
    return segno.make(data, error="m", micro=False)


class _Code128(barcode.Code128):
    """python-barcode's Code 128 with the fix of its issue #251 (merged upstream, not in a release as of
    0.16.1): data starting with the digit pair "99" lost that pair, because the start-code folding took
    the pair's symbol value (99) for a switch to code set C. A member number 99... scanned as another
    member's. Only a switch to set A or B right after START C is folded into the start code."""

    def _try_to_optimize(self, encoded: list[int]) -> list[int]:
        if encoded[1] in (code128.C["TO_A"], code128.C["TO_B"]):
            encoded[:2] = [code128.TO[encoded[1]]]
        return encoded


def code128_modules(data: str) -> str:
    """The bars of `data` as Code 128, one character per module: "1" black, "0" white
    (python-barcode picks the code sets and adds the check symbol and stop pattern)."""
    return _Code128(data).build()[0]


def _labelled(svg: str, label: str) -> SafeString:
    return mark_safe(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))  # noqa: S308 - label escaped


def qr_svg(data: str, *, label: str, scale: int = 4) -> SafeString:
    """A standard (never Micro) QR code as inline SVG, sized by CSS through its viewBox."""
    svg = _qr(data).svg_inline(scale=scale, border=QR_QUIET_ZONE, omitsize=True, svgclass="code-qr")
    return _labelled(svg, label)


def code128_svg(data: str, *, label: str) -> SafeString:
    """A Code 128 barcode as inline SVG: one path, one unit per module, CODE128_SCREEN_PX pixels wide
    per module unless the page is narrower."""
    modules = code128_modules(data)
    width = len(modules) + 2 * CODE128_QUIET_ZONE
    runs, x, i = [], CODE128_QUIET_ZONE, 0
    while i < len(modules):
        j = i
        while j < len(modules) and modules[j] == modules[i]:
            j += 1
        if modules[i] == "1":
            runs.append(f"M{x + i} 0h{j - i}v{CODE128_HEIGHT}h-{j - i}z")
        i = j
    svg = (
        f'<svg viewBox="0 0 {width} {CODE128_HEIGHT}" width="{width * CODE128_SCREEN_PX}" class="code-128" '
        'preserveAspectRatio="none" '
        f'shape-rendering="crispEdges"><rect width="{width}" height="{CODE128_HEIGHT}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )
    return _labelled(svg, label)


def qr_png(data: str, *, scale: int = 6) -> bytes:
    out = io.BytesIO()
    _qr(data).save(out, kind="png", scale=scale, border=QR_QUIET_ZONE)
    return out.getvalue()


def code128_png(data: str, *, module_px: int = 3) -> bytes:
    """The same bars as code128_svg, as a PNG (Pillow), module_px pixels per module."""
    modules = code128_modules(data)
    width = (len(modules) + 2 * CODE128_QUIET_ZONE) * module_px
    image = Image.new("1", (width, CODE128_HEIGHT * module_px), 1)
    draw = ImageDraw.Draw(image)
    for i, module in enumerate(modules):
        if module == "1":
            x = (CODE128_QUIET_ZONE + i) * module_px
            draw.rectangle((x, 0, x + module_px - 1, image.height - 1), fill=0)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@dataclass(frozen=True)
class ScanCodes:
    """What a page shows for one scannable value: its QR code and its barcode (inline SVG)."""

    value: str
    qr: SafeString
    barcode: SafeString


def scan_codes(value: str, *, qr_label: str, barcode_label: str) -> ScanCodes:
    return ScanCodes(value, qr_svg(value, label=qr_label), code128_svg(value, label=barcode_label))


def email_attach_scan_codes(message: EmailMultiAlternatives, value: str) -> dict[str, str]:
    """Attach `value`'s QR code and barcode as inline PNG images (multipart/related, so mail
    clients show them in the HTML body and do not list them as attachments). Returns the `cid:`
    URLs for the HTML template: {"qr": ..., "barcode": ...}."""
    message.mixed_subtype = "related"
    urls = {}
    for name, png in (("qr", qr_png(value)), ("barcode", code128_png(value, module_px=2))):
        image = MIMEImage(png, "png")
        cid = f"{name}-{uuid.uuid4().hex}@fidelis"
        image.add_header("Content-ID", f"<{cid}>")
        image.add_header("Content-Disposition", "inline", filename=f"{name}.png")
        message.attach(image)
        urls[name] = f"cid:{cid}"
    return urls
