"""``lossdoctor report``: one self-contained HTML or Markdown file per log, through the real CLI.

The files are parsed back (``html.parser`` for HTML, markdown-it for Markdown) and checked for
the diagnosis, the knowledge base's causes, checks, fixes and sources, the embedded figure, the
absence of anything that would load from the network, and the escaping of hostile names.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from kb.index import load_kb
from tests.conftest import REPO, Run

STUCK_87 = "examples/stuck-87.log"
OVERFITTING_LOG = "tests/data/logs/generated/keras-v1-overfitting.log"
OVERFITTING_TB = "tests/data/logs/generated/tb-overfitting"
STILL_LEARNING = "tests/data/logs/generated/torch-print-still-learning.log"
DIVERGING = "tests/data/logs/generated/keras-v1-diverging.log"

HOSTILE_LOSS = "<script>alert(1)</script>_loss"
HOSTILE_VAL = "[bold]$x$_val_loss\x1b[31m"
HOSTILE_FILE = "<script>[bold]\x1b[31m$x$.jsonl"


class Page(HTMLParser):
    """Tags, attributes and text of an HTML document, as a browser's parser sees them."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text_parts: list[str] = []
        self._skip = 0
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag in ("style", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text_parts.append(data)

    @property
    def text(self) -> str:
        """The visible text, whitespace collapsed."""
        return re.sub(r"\s+", " ", " ".join(self.text_parts))

    def all(self, tag: str) -> list[dict[str, str]]:
        """The attributes of every ``tag`` element."""
        return [attrs for name, attrs in self.tags if name == tag]


def _markdown_as_html(text: str) -> str:
    # html enabled on purpose: escaping must hold even where raw HTML would be rendered
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(text)


def _png_of(data_uri: str):  # type: ignore[no-untyped-def]
    from PIL import Image

    prefix = "data:image/png;base64,"
    assert data_uri.startswith(prefix)
    image = Image.open(io.BytesIO(base64.b64decode(data_uri[len(prefix) :], validate=True)))
    image.load()
    return image.convert("RGB")


def _count_near(image, colour: tuple[int, int, int], tolerance: int = 40) -> int:  # type: ignore[no-untyped-def]
    r0, g0, b0 = colour
    return sum(
        count
        for count, (r, g, b) in image.getcolors(maxcolors=1 << 24)
        if abs(r - r0) + abs(g - g0) + abs(b - b0) <= tolerance
    )


def _expected_advice(symptom_id: str) -> tuple[list[str], list[str]]:
    """Titles of the causes, checks and fixes, and the source URLs, the KB has for a symptom."""
    kb = load_kb()
    titles, urls = [], []
    symptom = kb.symptom(symptom_id)
    urls += [s.url for s in symptom.sources if s.url]
    for cause in kb.causes_of(symptom_id):
        titles.append(cause.title)
        urls += [s.url for s in cause.sources if s.url]
        for entry in (*kb.checks_of(cause), *kb.fixes_of(cause)):
            titles.append(entry.title)
            urls += [s.url for s in entry.sources if s.url]
    return titles, urls


def _assert_one_error_line(done, *words: str) -> None:  # type: ignore[no-untyped-def]
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("lossdoctor: ")
    assert "Traceback" not in done.stderr and "\x1b" not in done.stderr
    for word in words:
        assert word in lines[0]


def _assert_nothing_external(page: Page, raw: str) -> None:
    """No script, no stylesheet link, no resource from anywhere but a data: URI."""
    assert not page.all("script")
    assert not page.all("link")
    assert not page.all("iframe") and not page.all("object") and not page.all("embed")
    for tag, attrs in page.tags:
        for name in ("src", "srcset", "data", "poster", "background"):
            if name in attrs:
                assert attrs[name].startswith("data:"), (tag, name, attrs[name][:80])
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
    style = "".join(re.findall(r"<style>(.*?)</style>", raw, re.S))
    assert "@import" not in style and "url(" not in style
    csp = [a for a in page.all("meta") if a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]["content"]


# --------------------------------------------------------------------------- HTML


def test_an_html_report_of_the_87_log_holds_the_diagnosis_causes_checks_fixes_and_sources(
    run: Run, tmp_path: Path
) -> None:
    out = tmp_path / "stuck.html"
    done = run("report", STUCK_87, "-o", str(out))
    assert done.returncode == 0, done.stderr
    size_kb = round(out.stat().st_size / 1024)
    assert done.stdout == (
        f"wrote {out} ({size_kb} KB): Loss constant at 87.3365 (87.33) (stuck-87-3365)\n"
    )
    raw = out.read_text(encoding="utf-8")
    page = Page(raw)
    text = page.text
    assert "Loss constant at 87.3365 (87.33)" in text and "stuck-87-3365" in text
    assert "loss constant at 87.3365 from iteration 152 to 232" in text  # the evidence
    assert "examples/stuck-87.log" in text and "plain-print" in text and "lossdoctor 0.1.0" in text
    # every finding, ranked, the primary one marked
    assert "plateau" in text and "primary" in text
    assert text.index("stuck-87-3365") < text.index("plateau")
    titles, urls = _expected_advice("stuck-87-3365")
    for title in titles:
        assert title in text, title
    hrefs = {a.get("href") for a in page.all("a")}
    for url in urls:
        assert url in hrefs, url
    # the causes keep the knowledge base's order
    positions = [
        text.index(t) for t in ("Values entering softmax overflow", "Learning rate too high")
    ]
    assert positions == sorted(positions)
    # the series table: names, counts and ranges
    assert "sgd_lr" in text and "64" in text and "iteration 4 – 256" in text
    _assert_nothing_external(page, raw)


def test_the_figure_is_an_embedded_png_with_the_curve_and_the_finding_marked(
    run: Run, tmp_path: Path
) -> None:
    out = tmp_path / "stuck.html"
    assert run("report", STUCK_87, "-o", str(out)).returncode == 0
    images = Page(out.read_text(encoding="utf-8")).all("img")
    assert len(images) == 1
    image = _png_of(images[0]["src"])
    assert image.width >= 1000 and image.height >= 500
    assert _count_near(image, (0x09, 0x69, 0xDA)) > 1500  # the training loss, blue
    assert _count_near(image, (0xD6, 0x40, 0x4B)) > 1500  # the primary finding's bar, red


def test_nan_and_inf_readings_are_marked_in_the_figure(run: Run, tmp_path: Path) -> None:
    out = tmp_path / "diverging.html"
    assert run("report", DIVERGING, "-o", str(out)).returncode == 0
    page = Page(out.read_text(encoding="utf-8"))
    assert "nan-loss" in page.text and "diverging" in page.text
    image = _png_of(page.all("img")[0]["src"])
    # the x marks along the top edge: strong red in the top tenth of the image, right half
    top_right = image.crop((image.width // 2, 0, image.width, image.height // 10))
    assert _count_near(top_right, (0xCF, 0x22, 0x2E), tolerance=60) > 100


def test_a_tensorboard_run_directory_with_overfitting_gets_a_report(
    run: Run, tmp_path: Path
) -> None:
    out = tmp_path / "tb.htm"
    done = run("report", OVERFITTING_TB, "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("(overfitting)")
    page = Page(out.read_text(encoding="utf-8"))
    titles, _ = _expected_advice("overfitting")
    for title in titles:
        assert title in page.text, title
    image = _png_of(page.all("img")[0]["src"])
    assert _count_near(image, (0xD4, 0x62, 0x0A)) > 500  # the validation loss, orange


# --------------------------------------------------------------------------- Markdown


def test_a_markdown_report_of_an_overfitting_log_has_the_same_content(
    run: Run, tmp_path: Path
) -> None:
    out = tmp_path / "overfitting.md"
    done = run("report", OVERFITTING_LOG, "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {out} (") and "(overfitting)" in done.stdout
    source = out.read_text(encoding="utf-8")
    assert source.startswith("# Diagnosis: ")
    page = Page(_markdown_as_html(source))
    text = page.text
    assert "Training loss falls, validation loss flattens or rises (overfitting)" in text
    assert "val_loss turned up at epoch 5" in text and "still-learning" in text
    titles, urls = _expected_advice("overfitting")
    for title in titles:
        assert title in text, title
    hrefs = {a.get("href") for a in page.all("a")}
    for url in urls:
        assert url in hrefs, url
    # the figure as a data-URI image, and the curves as text for where it does not show
    images = page.all("img")
    assert len(images) == 1
    assert _png_of(images[0]["src"]).width >= 1000
    code = re.findall(r"```text\n(.*?)\n```", source, re.S)
    assert code and "train" in code[0] and "val" in code[0] and "█" in code[0]
    assert "loss" in text and "val_loss" in text and "keras-stdout-v1" in text


def test_a_run_that_is_still_learning_gets_a_report_too(run: Run, tmp_path: Path) -> None:
    for name in ("healthy.md", "healthy.html"):
        out = tmp_path / name
        done = run("report", STILL_LEARNING, "-o", str(out))
        assert done.returncode == 0, done.stderr
        assert done.stdout.rstrip().endswith("(still-learning)")
        text = out.read_text(encoding="utf-8")
        assert "Train and validation loss both still falling" in text
        assert "Nothing is broken" in text  # what the knowledge base says about it


def test_format_option_overrides_the_extension_and_dash_prints_the_report(run: Run) -> None:
    log = (REPO / STUCK_87).read_text(encoding="utf-8")
    done = run("report", "-", "-o", "-", "--format", "md", stdin=log)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# Diagnosis: Loss constant at 87.3365")
    assert done.stderr == (
        "wrote md to standard output: Loss constant at 87.3365 (87.33) (stuck-87-3365)\n"
    )


def test_a_gzip_compressed_log_read_from_a_file(run: Run, tmp_path: Path) -> None:
    compressed = tmp_path / "train.log.gz"
    compressed.write_bytes(gzip.compress((REPO / STUCK_87).read_bytes()))
    out = tmp_path / "report.txt"
    done = run("report", str(compressed), "-o", str(out), "--format", "html")
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


# --------------------------------------------------------------------------- hostile names


@pytest.fixture
def hostile_log(tmp_path: Path) -> Path:
    """A JSON-lines log whose file name and metric names hold HTML, Rich markup, a TeX
    formula and a terminal escape sequence."""
    path = tmp_path / HOSTILE_FILE
    with path.open("w", encoding="utf-8") as handle:
        for step in range(1, 60):
            record = {"step": step, HOSTILE_LOSS: 2.0 / step, HOSTILE_VAL: 1.0 + 0.01 * step}
            handle.write(json.dumps(record) + "\n")
    return path


def test_hostile_names_are_text_in_the_html_report(
    run: Run, tmp_path: Path, hostile_log: Path
) -> None:
    out = tmp_path / "hostile.html"
    done = run("report", str(hostile_log), "--metric", HOSTILE_LOSS, "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout
    raw = out.read_text(encoding="utf-8")
    assert "\x1b" not in raw and "<script>alert" not in raw and "<script>[bold]" not in raw
    page = Page(raw)
    _assert_nothing_external(page, raw)
    # shown as text: the file name, the metric names (escape sequence made visible)
    assert HOSTILE_LOSS in page.text
    assert "<script>[bold]\\x1b[31m$x$.jsonl" in page.text
    assert "[bold]$x$_val_loss\\x1b[31m" in page.text
    assert _png_of(page.all("img")[0]["src"]).width >= 1000  # the $...$ name did not break it


def test_hostile_names_are_text_in_the_markdown_report(
    run: Run, tmp_path: Path, hostile_log: Path
) -> None:
    out = tmp_path / "hostile.md"
    done = run("report", str(hostile_log), "--metric", HOSTILE_LOSS, "-o", str(out))
    assert done.returncode == 0, done.stderr
    source = out.read_text(encoding="utf-8")
    assert "\x1b" not in source and "<script>" not in source
    page = Page(_markdown_as_html(source))
    assert not page.all("script")
    assert HOSTILE_LOSS in page.text
    assert "<script>[bold]\\x1b[31m$x$.jsonl" in page.text
    assert "[bold]$x$_val_loss\\x1b[31m" in page.text


# --------------------------------------------------------------------------- files and errors


def test_an_existing_file_is_kept_unless_force_is_given(run: Run, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    out.write_text("my notes", encoding="utf-8")
    done = run("report", STUCK_87, "-o", str(out))
    _assert_one_error_line(done, "already exists", "--force")
    assert out.read_text(encoding="utf-8") == "my notes"
    done = run("report", STUCK_87, "-o", str(out), "--force")
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]  # no temporary left


def test_the_report_is_an_ordinary_readable_file(run: Run, tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    assert run("report", STUCK_87, "-o", str(out)).returncode == 0
    assert out.stat().st_mode & 0o444 == 0o444


@pytest.mark.parametrize(
    ("log", "output", "extra", "words"),
    [
        ("missing.log", "r.html", (), ("missing.log", "no such file")),
        ("EMPTY", "r.html", (), ("empty.log", "empty")),
        ("BINARY", "r.html", (), ("binary.log", "binary")),
        (STUCK_87, "r.txt", (), ("r.txt", "--format")),
        (STUCK_87, "no/such/dir/r.html", (), ("r.html", "cannot write")),
        (STUCK_87, "r.html", ("--metric", "nope"), ("no series named 'nope'",)),
        ("INPUT", "INPUT", ("--format", "html", "--force"), ("is the input log",)),
        (STUCK_87, "DIR", (), ("is a directory",)),
        (STUCK_87, "/proc/lossdoctor-report.html", (), ("cannot write",)),
        (STUCK_87, "-", (), ("--format",)),
    ],
    ids=[
        "missing-log", "empty-log", "binary-log", "unknown-extension", "no-output-directory",
        "unknown-metric", "output-is-input", "output-is-directory", "unwritable", "dash-no-format",
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(
    run: Run, tmp_path: Path, log: str, output: str, extra: tuple[str, ...], words: tuple[str, ...]
) -> None:
    (tmp_path / "empty.log").write_bytes(b"")
    (tmp_path / "binary.log").write_bytes(b"\x00\x01\x02\xff" * 100)
    shutil.copy(REPO / STUCK_87, tmp_path / "input.log")
    named = {
        "EMPTY": str(tmp_path / "empty.log"),
        "BINARY": str(tmp_path / "binary.log"),
        "INPUT": str(tmp_path / "input.log"),
        "DIR": str(tmp_path),
    }
    log = named.get(log, log)
    if output not in ("-", "DIR", "INPUT") and not output.startswith("/"):
        output = str(tmp_path / output)
    output = named.get(output, output)
    before = {p.name: p.stat().st_size for p in tmp_path.iterdir()}
    done = run("report", log, "-o", output, *extra)
    _assert_one_error_line(done, *words)
    assert done.stdout == ""
    assert {p.name: p.stat().st_size for p in tmp_path.iterdir()} == before


def test_the_help_teaches_with_examples(run: Run) -> None:
    done = run("report", "--help")
    assert done.returncode == 0
    assert "lossdoctor report train.log -o report.html" in done.stdout
    assert "--force" in done.stdout and "--format" in done.stdout
