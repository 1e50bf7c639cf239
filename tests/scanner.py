"""Reads codes the way a till does: zbar (Debian `zbar-tools`), a real decoder, not our encoder
run backwards. Tests that need it are skipped, with the reason, where zbarimg is missing; CI
(`.ci/run`) installs it."""

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ZBARIMG = shutil.which("zbarimg")


def scan(image: bytes, suffix: str = ".png") -> list[tuple[str, str]]:
    """Every symbol zbar finds in the image, as (symbology, text): ("QR-Code", "ABCD...")."""
    if ZBARIMG is None:
        pytest.skip("needs zbarimg: apt-get install zbar-tools")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"image{suffix}"
        path.write_bytes(image)
        done = subprocess.run([ZBARIMG, "-q", "--nodbus", str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode in (0, 4), done.stderr  # 4: the image was read and holds no code
    return [tuple(line.split(":", 1)) for line in done.stdout.splitlines() if line]
