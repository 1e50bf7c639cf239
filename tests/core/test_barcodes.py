"""Voucher codes and card numbers as images that a real decoder (zbar) reads: a standard QR code and
a Code 128 barcode, both carrying the exact text."""

import io
import re

import pytest
import segno

from core import barcodes
from tests.scanner import scan

# "99..." and "9912": a leading digit pair 99 is also code set C's switch symbol, which python-barcode
# 0.16.1 folded away (its issue #251): the card 993825267731 scanned as 3825267731.
VALUES = ["MP4VSG37PKSX", "ABCDEFGHJKMN", "200000000019", "7", "993825267731", "9912", "99", "A99", "1299"]


@pytest.mark.parametrize("value", VALUES)
def test_the_qr_png_decodes_to_the_value(value):
    assert scan(barcodes.qr_png(value)) == [("QR-Code", value)]


@pytest.mark.parametrize("value", VALUES)
def test_the_code128_png_decodes_to_the_value(value):
    assert scan(barcodes.code128_png(value)) == [("CODE-128", value)]


def test_the_qr_is_never_a_micro_qr_which_scanners_cannot_read():
    # segno alone picks a Micro QR for a voucher code: zbar (like OpenCV and many tills) reads nothing
    micro = segno.make("MP4VSG37PKSX", error="m")
    assert micro.is_micro
    png = io.BytesIO()
    micro.save(png, kind="png", scale=6, border=4)
    assert scan(png.getvalue()) == []
    # ours: a version 1 QR (21 modules) with its 4-module quiet zone, 4 units a module
    assert 'viewBox="0 0 116 116"' in barcodes.qr_svg("MP4VSG37PKSX", label="QR")


def test_the_svg_barcode_draws_the_same_bars_as_the_png():
    value = "MP4VSG37PKSX"
    svg = barcodes.code128_svg(value, label='Barcode "<x>"')
    assert 'aria-label="Barcode &quot;&lt;x&gt;&quot;"' in svg and 'role="img"' in svg
    drawn = ["0"] * len(barcodes.code128_modules(value))
    for x, width in re.findall(r"M(\d+) 0h(\d+)v", svg):
        for i in range(int(x), int(x) + int(width)):
            drawn[i - barcodes.CODE128_QUIET_ZONE] = "1"
    assert "".join(drawn) == barcodes.code128_modules(value)
