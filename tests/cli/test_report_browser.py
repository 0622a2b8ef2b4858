"""An HTML report opened in a real browser: Debian's Chromium, headless, with no network.

The report is rendered to a screenshot in dark mode, where the page is dark and the figure is a
white card: a large white block with the training curve's blue and the primary finding's red in
it can only be the embedded PNG, decoded and painted. ``--dump-dom`` shows the document as the
browser built it. Skipped when ``/usr/bin/chromium`` is missing, unless
``LOSSDOCTOR_REQUIRE_BROWSER=1`` (CI), where that is a failure.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Run

CHROMIUM = Path("/usr/bin/chromium")
STUCK_87 = "examples/stuck-87.log"
WIDTH, HEIGHT = 1200, 2000


@pytest.fixture(scope="module")
def chromium() -> Path:
    """The browser, or a skip (a failure when the environment requires it)."""
    if CHROMIUM.exists():
        return CHROMIUM
    reason = f"{CHROMIUM} is missing (Debian: apt-get install chromium)"
    if os.environ.get("LOSSDOCTOR_REQUIRE_BROWSER") == "1":
        pytest.fail(f"LOSSDOCTOR_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _browse(chromium: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run headless Chromium with every network path closed."""
    return subprocess.run(
        [
            str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND", *args,
        ],
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def report(run: Run, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "stuck-87.html"
    done = run("report", STUCK_87, "-o", str(out))
    assert done.returncode == 0, done.stderr
    return out


def _screenshot(chromium: Path, report: Path, tmp_path: Path, *flags: str):  # type: ignore[no-untyped-def]
    from PIL import Image

    png = tmp_path / "shot.png"
    done = _browse(
        chromium, tmp_path / "profile", *flags, f"--screenshot={png}",
        f"--window-size={WIDTH},{HEIGHT}", report.as_uri(),
    )  # fmt: skip
    assert png.exists(), done.stderr.decode("utf-8", "replace")[-2000:]
    with Image.open(png) as image:
        return image.convert("RGB")


def _near(pixel: tuple[int, int, int], colour: tuple[int, int, int], tolerance: int) -> bool:
    return sum(abs(a - b) for a, b in zip(pixel, colour, strict=True)) <= tolerance


def test_the_browser_paints_the_embedded_figure(
    chromium: Path, report: Path, tmp_path: Path
) -> None:
    shot = _screenshot(chromium, report, tmp_path, "--force-dark-mode")
    assert shot.size == (WIDTH, HEIGHT)
    pixels = shot.load()
    # the page itself is dark
    assert _near(pixels[5, HEIGHT - 5], (0x0D, 0x11, 0x17), 30)
    # rows crossed by a wide white block: the figure, and only the figure
    white_rows = [
        y
        for y in range(0, HEIGHT, 2)
        if sum(1 for x in range(0, WIDTH, 4) if min(pixels[x, y]) >= 245) > 150
    ]
    assert len(white_rows) > 150, f"no white figure card in the dark page ({len(white_rows)} rows)"
    top, bottom = white_rows[0], white_rows[-1]
    assert bottom - top > 350
    card = shot.crop((0, top, WIDTH, bottom + 1))
    blue = red = 0
    for count, colour in card.getcolors(maxcolors=1 << 24):
        if _near(colour, (0x09, 0x69, 0xDA), 60):
            blue += count  # the training loss line
        elif _near(colour, (0xD6, 0x40, 0x4B), 60):
            red += count  # the primary finding's range bar
    assert blue > 1000, blue
    assert red > 1000, red


def test_the_page_is_readable_in_light_mode(chromium: Path, report: Path, tmp_path: Path) -> None:
    shot = _screenshot(chromium, report, tmp_path)
    colours = shot.getcolors(maxcolors=1 << 24)
    assert len(colours) > 200  # text, a figure, tables: not a blank page
    dark_text = sum(c for c, rgb in colours if max(rgb) < 80)
    assert dark_text > 5000


def test_the_browser_builds_the_document_without_scripts(
    chromium: Path, report: Path, tmp_path: Path
) -> None:
    done = _browse(chromium, tmp_path / "profile", "--dump-dom", report.as_uri())
    dom = done.stdout.decode("utf-8", "replace")
    assert "<h1" in dom and "Loss constant at 87.3365 (87.33)" in dom
    assert "stuck-87-3365" in dom and "softmax-overflow" in dom
    assert '<img src="data:image/png;base64,' in dom
    assert "<script" not in dom
