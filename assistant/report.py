"""A triage result as one self-contained file to attach to an issue: HTML or Markdown.

:func:`build_report` gathers everything worth showing into a :class:`Report` (pure data: the
input, the series, the ranked findings, and the knowledge base's causes, checks and fixes for
the primary symptom with their sources). :func:`render_figure` draws the loss curves with the
findings' step ranges marked, as a PNG, with matplotlib (imported here only, Agg canvas, no
pyplot state). :func:`to_html` and :func:`to_markdown` turn a report into text.

The HTML is a single file: inline CSS, the figure as a ``data:`` URI, no script, no external
resource (a Content-Security-Policy says so to the browser), light and dark colour schemes and a
print style. Text that came from the log or the file system is escaped (``html.escape`` in HTML,
backslash escapes in Markdown) after :func:`assistant.safe.plain` made its control characters
visible; knowledge-base bodies are rendered from Markdown with raw HTML and images disabled.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant import __version__
from assistant.render import advice_for, loss_plot, sparkline
from assistant.safe import plain
from assistant.triage.model import Series, TriageResult
from kb.model import Entry, KnowledgeBase, Source

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

__all__ = [
    "Curve",
    "Diagnosis",
    "FindingRow",
    "Item",
    "Report",
    "SeriesRow",
    "build_report",
    "render_figure",
    "to_html",
    "to_markdown",
]

# Points drawn per curve: a longer series is reduced to the lowest and highest reading of each
# block, so a spike survives and the PNG stays small.
_MAX_PLOT_POINTS = 3000
_MAX_NONFINITE_MARKS = 400
_TEXT_PLOT_COLUMNS = 96

_CURVE_COLOURS = ("#0969da", "#d4620a", "#1a7f37", "#8250df", "#bf3989", "#57606a")
_PRIMARY_COLOUR = "#cf222e"
_OTHER_FINDING_COLOUR = "#8c959f"


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class SeriesRow:
    """One series of the log, as the report's table lists it."""

    name: str
    """Metric name as the log writes it (untrusted)."""
    split: str
    """train, val or test."""
    role: str
    """``training loss``, ``validation loss`` or empty."""
    readings: int
    """How many readings the log holds."""
    step_unit: str
    """What the x axis counts."""
    first_step: float | None
    """Step of the first reading."""
    last_step: float | None
    """Step of the last reading."""
    low: float | None
    """Smallest finite value, None when there is none."""
    high: float | None
    """Largest finite value."""
    non_finite: int
    """How many readings are nan or inf (of those the series keeps)."""


@dataclass(frozen=True)
class FindingRow:
    """One finding, ranked, with the knowledge base's title of its symptom."""

    rank: int
    """1 for the best explanation."""
    symptom: str
    """Symptom id."""
    title: str
    """The symptom's title, or the id when the knowledge base does not know it."""
    confidence: float
    """0 to 1."""
    summary: str
    """The detector's evidence, one line (untrusted: holds metric names)."""
    start_step: float | None
    """Where the evidence starts."""
    end_step: float | None
    """Where it ends."""
    series: str | None
    """The series the finding is about (untrusted)."""
    primary: bool
    """True for the primary finding."""


@dataclass(frozen=True)
class Item:
    """A knowledge-base entry as the report shows it: a cause, a check or a fix."""

    id: str
    """Entry id (also the HTML anchor)."""
    kind: str
    """cause, check or fix."""
    title: str
    """English title."""
    body: str
    """The English body, Markdown."""
    sources: tuple[Source, ...]
    """Where its facts come from."""
    question: str = ""
    """For a cause: the yes/no question that makes it more likely."""
    checks: tuple[str, ...] = ()
    """For a cause: ids of its checks."""
    fixes: tuple[str, ...] = ()
    """For a cause: ids of its fixes."""


@dataclass(frozen=True)
class Diagnosis:
    """The primary symptom with what the knowledge base says about it."""

    symptom: str
    """Symptom id."""
    title: str
    """English title."""
    title_zh: str
    """Chinese title (may be empty)."""
    body: str
    """The symptom's English body, Markdown."""
    sources: tuple[Source, ...]
    """The symptom's sources."""
    causes: tuple[Item, ...]
    """Causes, most likely first."""
    remedies: tuple[Item, ...]
    """Every check and fix of those causes, once each, in order of first mention."""


@dataclass(frozen=True)
class Curve:
    """One series to draw."""

    label: str
    """Legend text, e.g. ``train: loss`` (untrusted name inside)."""
    steps: np.ndarray
    """x values."""
    values: np.ndarray
    """y values, nan / inf kept."""


@dataclass(frozen=True)
class Report:
    """Everything a report file shows, computed once and rendered as HTML or Markdown."""

    version: str
    """lossdoctor's version."""
    generated: str
    """When the report was made, ISO 8601 UTC to the second."""
    path: str
    """The input as the user named it (untrusted)."""
    format: str
    """The detected log format."""
    step_unit: str
    """What the x axis counts."""
    series: tuple[SeriesRow, ...]
    """Every series read, the losses first."""
    notes: tuple[str, ...]
    """Facts the reader noticed (untrusted)."""
    findings: tuple[FindingRow, ...]
    """Ranked findings."""
    diagnosis: Diagnosis | None
    """The primary symptom and its causes; None when nothing could be said."""
    curves: tuple[Curve, ...]
    """What the figure draws: training loss, validation loss, the series findings are about."""
    text_plot: str
    """The loss as text (sparklines and a character plot), for where images do not show."""

    @property
    def primary(self) -> FindingRow | None:
        """The primary finding, if any."""
        return next((f for f in self.findings if f.primary), None)


# --------------------------------------------------------------------------- building


def _finite_range(values: np.ndarray) -> tuple[float | None, float | None, int]:
    finite = values[np.isfinite(values)]
    missing = int(values.shape[0] - finite.shape[0])
    if finite.shape[0] == 0:
        return None, None, missing
    return float(finite.min()), float(finite.max()), missing


def _series_rows(result: TriageResult) -> tuple[SeriesRow, ...]:
    def order(s: Series) -> tuple[bool, bool, str]:
        return (s is not result.loss and s is not result.val_loss, "loss" not in s.name, s.name)

    rows = []
    for s in sorted(result.log.series, key=order):
        low, high, missing = _finite_range(s.values)
        role = (
            "training loss"
            if s is result.loss
            else "validation loss"
            if s is result.val_loss
            else ""
        )
        rows.append(
            SeriesRow(
                s.name,
                s.split,
                role,
                s.total,
                s.step_unit,
                s.first_step,
                s.last_step,
                low,
                high,
                missing,
            )  # fmt: skip
        )
    return tuple(rows)


def _curves(result: TriageResult) -> tuple[Curve, ...]:
    chosen: list[tuple[str, Series]] = []
    if result.loss is not None:
        chosen.append(("train" if result.loss.split == "train" else result.loss.split, result.loss))
    if result.val_loss is not None and result.val_loss is not result.loss:
        chosen.append(("val", result.val_loss))
    for finding in result.findings:
        if finding.series is None or any(s.name == finding.series for _, s in chosen):
            continue
        same = [s for s in result.log.series if s.name == finding.series]
        if same:
            series = next((s for s in same if s.split == "train"), same[0])
            chosen.append((series.split, series))
    return tuple(
        Curve(f"{split}: {s.name}", s.steps, s.values) for split, s in chosen if s.points > 0
    )


def _item(
    entry: Entry, question: str = "", checks: Sequence[str] = (), fixes: Sequence[str] = ()
) -> Item:
    return Item(
        entry.id, entry.kind, entry.title, entry.body, entry.sources, question, tuple(checks),
        tuple(fixes),
    )  # fmt: skip


def _diagnosis(kb: KnowledgeBase, symptom_id: str | None) -> Diagnosis | None:
    advice = advice_for(kb, symptom_id)
    if advice is None:
        return None
    causes = []
    remedies: dict[str, Item] = {}
    for cause_advice in advice.causes:
        cause = cause_advice.cause
        causes.append(
            _item(
                cause,
                question=cause.question,
                checks=tuple(c.id for c in cause_advice.checks),
                fixes=tuple(f.id for f in cause_advice.fixes),
            )
        )
        for entry in (*cause_advice.checks, *cause_advice.fixes):
            remedies.setdefault(entry.id, _item(entry))
    symptom = advice.symptom
    return Diagnosis(
        symptom.id, symptom.title, symptom.title_zh, symptom.body, symptom.sources,
        tuple(causes), tuple(remedies.values()),
    )  # fmt: skip


def _text_plot(result: TriageResult) -> str:
    lines = []
    for series, label in ((result.loss, "train"), (result.val_loss, "val")):
        if series is not None and series.points > 1:
            values = [float(v) for v in series.values]
            lines.append(
                f"{label:<5} {sparkline(values, _TEXT_PLOT_COLUMNS - 28)}  "
                f"{values[0]:.4g} -> {values[-1]:.4g}"
            )
    drawn = loss_plot(result, _TEXT_PLOT_COLUMNS)
    if drawn:
        lines += ["", "\n".join(line.rstrip() for line in drawn.rstrip().splitlines())]
    return "\n".join(lines)


def build_report(
    result: TriageResult, kb: KnowledgeBase, *, generated: datetime | None = None
) -> Report:
    """Gather what a report shows about one analysed log: pure, no drawing."""
    moment = (generated or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    findings = tuple(
        FindingRow(
            rank,
            f.symptom,
            kb.get(f.symptom).title if f.symptom in kb else f.symptom,
            float(f.confidence),
            f.summary,
            f.start_step,
            f.end_step,
            f.series,
            f.symptom == result.primary,
        )  # fmt: skip
        for rank, f in enumerate(result.findings, start=1)
    )
    main = result.loss or (result.log.series[0] if result.log.series else None)
    return Report(
        version=__version__,
        generated=moment.strftime("%Y-%m-%d %H:%M:%S UTC"),
        path=result.log.path,
        format=result.log.format,
        step_unit=main.step_unit if main is not None else "step",
        series=_series_rows(result),
        notes=tuple(result.log.notes),
        findings=findings,
        diagnosis=_diagnosis(kb, result.primary),
        curves=_curves(result),
        text_plot=_text_plot(result),
    )


# --------------------------------------------------------------------------- figure


def _reduce(steps: np.ndarray, values: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """At most about ``limit`` points: the lowest and highest finite reading of each block."""
    keep = np.isfinite(values) & np.isfinite(steps)
    x, y = steps[keep], values[keep]
    if x.shape[0] <= limit:
        return x, y
    blocks = limit // 2
    edges = np.linspace(0, x.shape[0], blocks + 1).astype(int)
    picked: list[int] = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if b > a:
            chunk = y[a:b]
            picked += sorted({a + int(np.argmin(chunk)), a + int(np.argmax(chunk))})
    index = np.asarray(picked)
    return x[index], y[index]


def _clip_label(text: str, limit: int = 48) -> str:
    """Untrusted text for the figure: visible control characters, clipped, and a ``$`` kept a
    dollar sign (matplotlib reads ``$...$`` as TeX)."""
    text = plain(text)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def _fmt_step(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "?"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.4g}"


def _fmt_value(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


def render_figure(report: Report, *, dpi: int = 144) -> bytes | None:
    """The loss curves as a PNG: one line per curve (log y when the values span orders of
    magnitude), nan / inf readings marked at the top, the primary finding's range shaded, and
    below it one labelled bar per finding over its step range. None when there is no curve."""
    curves = [c for c in report.curves if c.values.shape[0] > 0]
    if not curves:
        return None
    import io
    import logging
    import warnings

    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter
    from matplotlib.transforms import blended_transform_factory

    logging.getLogger("matplotlib").setLevel(logging.ERROR)
    findings = [f for f in report.findings if f.start_step is not None and f.end_step is not None]
    lanes = len(findings)
    style: dict[str, Any] = {
        "font.size": 9.5,
        "axes.edgecolor": "#8c959f",
        "axes.labelcolor": "#24292f",
        "xtick.color": "#57606a",
        "ytick.color": "#57606a",
        "axes.grid": True,
        "grid.color": "#d0d7de",
        "grid.linewidth": 0.6,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "legend.frameon": True,
        "legend.framealpha": 0.9,
        "legend.edgecolor": "#d0d7de",
        "savefig.facecolor": "white",
    }
    with warnings.catch_warnings(), matplotlib.rc_context(style):  # type: ignore[arg-type]
        warnings.simplefilter("ignore")
        height = 4.2 + (0.45 + 0.26 * lanes if lanes else 0)
        fig = Figure(figsize=(10, height), dpi=dpi, facecolor="white")
        FigureCanvasAgg(fig)
        if lanes:
            grid = fig.add_gridspec(
                2, 1, height_ratios=[4.2, 0.35 + 0.26 * lanes], hspace=0.08,
                left=0.19, right=0.98, top=0.96, bottom=0.1 * 4.8 / height,
            )  # fmt: skip
            ax = fig.add_subplot(grid[0])
            lane = fig.add_subplot(grid[1], sharex=ax)
        else:
            ax = fig.add_subplot(1, 1, 1)
            fig.subplots_adjust(left=0.19, right=0.98, top=0.96, bottom=0.12)
            lane = None
        finite_all = np.concatenate([c.values[np.isfinite(c.values)] for c in curves])
        top = blended_transform_factory(ax.transData, ax.transAxes)
        for colour, curve in zip(_CURVE_COLOURS * 4, curves, strict=False):
            x, y = _reduce(curve.steps, curve.values, _MAX_PLOT_POINTS)
            ax.plot(
                x, y, color=colour, linewidth=1.5, label=_clip_label(curve.label),
                marker="o" if x.shape[0] <= 60 else None, markersize=3, zorder=3,
            )  # fmt: skip
        bad = np.unique(np.concatenate([c.steps[~np.isfinite(c.values)] for c in curves]))
        if bad.shape[0]:
            if bad.shape[0] > _MAX_NONFINITE_MARKS:
                bad = bad[:: math.ceil(bad.shape[0] / _MAX_NONFINITE_MARKS)]
            ax.plot(
                bad, np.full(bad.shape[0], 0.97), transform=top, linestyle="none", marker="x",
                markersize=6, markeredgewidth=1.6, color=_PRIMARY_COLOUR,
                label="nan / inf reading", zorder=4, clip_on=False,
            )  # fmt: skip
        if (
            finite_all.shape[0]
            and finite_all.min() > 0
            and finite_all.max() / finite_all.min() > 1e2
        ):
            ax.set_yscale("log")
        ax.set_ylabel("loss" if len(curves) < 2 else "value")
        primary = next((f for f in findings if f.primary), None)
        span_min = _min_span(curves)
        if primary is not None:
            a, b = _span(primary, span_min)
            ax.axvspan(a, b, color=_PRIMARY_COLOUR, alpha=0.12, linewidth=0, zorder=1)
            ax.text(
                (a + b) / 2, 1.0, f"{primary.symptom}", transform=top, ha="center", va="bottom",
                color=_PRIMARY_COLOUR, fontsize=9, fontweight="bold", clip_on=False,
            )  # fmt: skip
        ax.legend(loc="best", fontsize=8.5)
        ax.xaxis.set_major_formatter(FuncFormatter(_step_tick))
        if lane is not None:
            labels = []
            for row, finding in enumerate(findings):
                a, b = _span(finding, span_min)
                colour = _PRIMARY_COLOUR if finding.primary else _OTHER_FINDING_COLOUR
                lane.barh(row, b - a, left=a, height=0.62, color=colour, alpha=0.85, zorder=3)
                star = "★ " if finding.primary else ""
                labels.append(f"{star}{finding.rank}. {finding.symptom} {finding.confidence:.2f}")
            lane.set_yticks(range(lanes), labels)
            for tick, finding in zip(lane.get_yticklabels(), findings, strict=True):
                if finding.primary:
                    tick.set_color(_PRIMARY_COLOUR)
                    tick.set_fontweight("bold")
            lane.set_ylim(lanes - 0.5, -0.5)
            lane.grid(axis="y", visible=False)
            lane.tick_params(axis="y", length=0)
            lane.spines["left"].set_visible(False)
            ax.tick_params(axis="x", labelbottom=False)
            lane.set_xlabel(report.step_unit)
            if primary is not None:
                a, b = _span(primary, span_min)
                lane.axvspan(a, b, color=_PRIMARY_COLOUR, alpha=0.08, linewidth=0, zorder=1)
        else:
            ax.set_xlabel(report.step_unit)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return _quantize(buffer.getvalue())


def _step_tick(value: float, _position: object) -> str:
    """An x tick: 250k, 1.2M, 35, 2.5 (no offset text under the axis)."""
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:.4g}M"
    if size >= 1e4:
        return f"{value / 1e3:.4g}k"
    return f"{value:.4g}"


def _min_span(curves: Sequence[Curve]) -> float:
    steps = np.concatenate([c.steps[np.isfinite(c.steps)] for c in curves])
    if steps.shape[0] == 0:
        return 1.0
    width = float(steps.max() - steps.min())
    return width * 0.006 if width > 0 else 1.0


def _span(finding: FindingRow, minimum: float) -> tuple[float, float]:
    """A finding's range, widened to a visible minimum around a single step."""
    a, b = float(finding.start_step or 0.0), float(finding.end_step or 0.0)
    if a > b:
        a, b = b, a
    if b - a < minimum:
        middle = (a + b) / 2
        a, b = middle - minimum / 2, middle + minimum / 2
    return a, b


def _quantize(png: bytes) -> bytes:
    """The PNG with a 256-colour palette: a third of the size, no visible change for a plot."""
    try:
        import io

        from PIL import Image

        with Image.open(io.BytesIO(png)) as image:
            small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
            out = io.BytesIO()
            small.save(out, format="PNG", optimize=True)
        data = out.getvalue()
        return data if len(data) < len(png) else png
    except Exception:  # noqa: BLE001 - Pillow missing or failing: keep the full-colour PNG
        return png


# --------------------------------------------------------------------------- shared text


def _range(row: FindingRow, unit: str) -> str:
    if row.start_step is None or row.end_step is None:
        return "whole run"
    if row.start_step == row.end_step:
        return f"{unit} {_fmt_step(row.start_step)}"
    return f"{unit} {_fmt_step(row.start_step)} – {_fmt_step(row.end_step)}"


_KB_LINK = re.compile(r"\[([^\]\n]+)\]\(kb:([a-z0-9-]+)\)")


def _kb_links(markdown: str, anchors: set[str]) -> str:
    """``[text](kb:id)`` links as links to the report's own section on the entry (anchors
    given), else as the text followed by the id."""

    def swap(match: re.Match[str]) -> str:
        text, target = match.group(1), match.group(2)
        return f"[{text}](#{target})" if target in anchors else f"{text} (`{target}`)"

    return _KB_LINK.sub(swap, markdown)


def _safe_url(url: str | None) -> str | None:
    if url and re.match(r"https?://[^\s<>\"']+$", url):
        return url
    return None


def _anchors(report: Report) -> set[str]:
    if report.diagnosis is None:
        return set()
    d = report.diagnosis
    return {d.symptom, *(c.id for c in d.causes), *(r.id for r in d.remedies)}


# --------------------------------------------------------------------------- HTML

_CSS = """
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1f2328; --muted: #59636e;
  --border: #d1d9e0; --card: #f6f8fa; --accent: #0969da; --primary: #cf222e;
  --primary-bg: #ffebe9; --badge: #eff2f5; --code: #eff1f3; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --border: #3d444d; --card: #151b23;
    --accent: #4493f8; --primary: #ff7b72; --primary-bg: #3c1618; --badge: #212830;
    --code: #262c36; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.55 -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial,
    "Noto Sans CJK SC", sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 28px 28px 48px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas,
  "DejaVu Sans Mono", monospace; font-size: 0.86em; }
code { background: var(--code); padding: 0.1em 0.35em; border-radius: 5px; }
pre { background: var(--card); border: 1px solid var(--border); border-radius: 8px;
  padding: 10px 12px; overflow-x: auto; line-height: 1.35; }
pre code { background: none; padding: 0; font-size: 1em; }
h1, h2, h3, h4 { line-height: 1.25; margin: 1.4em 0 0.5em; }
h1 { font-size: 1.75em; margin-top: 0.2em; }
h2 { font-size: 1.3em; padding-bottom: 0.3em; border-bottom: 1px solid var(--border); }
h3 { font-size: 1.08em; }
.kicker { color: var(--muted); font-size: 0.85em; letter-spacing: 0.06em;
  text-transform: uppercase; margin: 0; }
.subtitle { color: var(--muted); margin: 0.2em 0 0.8em; }
.evidence { border-left: 4px solid var(--primary); background: var(--primary-bg);
  padding: 10px 14px; border-radius: 0 8px 8px 0; margin: 0.8em 0; overflow-wrap: anywhere; }
.evidence .label { font-weight: 600; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 1em 0;
  font-size: 0.92em; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; overflow-wrap: anywhere; }
figure { margin: 1.2em 0; }
figure img { display: block; width: 100%; height: auto; border: 1px solid var(--border);
  border-radius: 8px; }
figcaption { color: var(--muted); font-size: 0.86em; margin-top: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; margin: 0.6em 0; }
th, td { border-bottom: 1px solid var(--border); padding: 6px 8px; text-align: left;
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.wrap { overflow-wrap: anywhere; }
tr.primary td { background: var(--primary-bg); }
.badge { display: inline-block; font-size: 0.75em; font-weight: 600; padding: 0.1em 0.55em;
  border-radius: 999px; background: var(--badge); color: var(--muted); white-space: nowrap; }
.badge.primary { background: var(--primary); color: var(--bg); }
li code { white-space: nowrap; }
.conf { display: inline-block; width: 48px; height: 6px; border-radius: 3px;
  background: var(--border); vertical-align: middle; margin-right: 6px; overflow: hidden; }
.conf > span { display: block; height: 100%; background: var(--primary); }
.cause { border: 1px solid var(--border); border-radius: 10px; padding: 4px 18px 12px;
  margin: 14px 0; background: var(--card); break-inside: avoid; }
.cause h3 { margin-top: 0.8em; }
.rank { color: var(--muted); margin-right: 0.3em; }
.ask { font-style: italic; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 24px; }
.columns h4 { margin: 0.6em 0 0.2em; font-size: 0.9em; color: var(--muted);
  text-transform: uppercase; letter-spacing: 0.05em; }
.columns ul { margin: 0; padding-left: 1.2em; }
.sources { font-size: 0.86em; color: var(--muted); margin: 0.6em 0 0; }
.sources ul { margin: 0.2em 0 0; padding-left: 1.2em; }
details { margin: 0.5em 0; }
details > summary { cursor: pointer; color: var(--accent); }
.entry { border-top: 1px solid var(--border); padding-top: 2px; }
.body h5, .body h6 { font-size: 0.95em; margin: 1em 0 0.3em; }
.notes { color: var(--muted); font-size: 0.9em; }
footer { margin-top: 3em; color: var(--muted); font-size: 0.85em;
  border-top: 1px solid var(--border); padding-top: 10px; }
@media (max-width: 700px) { .columns { grid-template-columns: 1fr; } main { padding: 16px; } }
@media print {
  :root { --bg: #fff; --fg: #000; --muted: #444; --border: #bbb; --card: #fff;
    --primary-bg: #fff3f2; --code: #f3f3f3; }
  @page { margin: 14mm; }
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  pre { white-space: pre-wrap; overflow-wrap: anywhere; }
  h3, h4 { break-after: avoid; }
  details > summary { display: none; }
  .sources a[href]::after { content: " <" attr(href) ">"; word-break: break-all; }
  h2 { break-after: avoid; }
  figure { break-inside: avoid; }
}
"""

_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'"
)


def _e(text: str) -> str:
    """Untrusted text for HTML: control characters made visible, then escaped."""
    return html.escape(plain(text), quote=True)


def _md_renderer() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).disable("image")


def _body_html(markdown: str, anchors: set[str], md: MarkdownIt) -> str:
    """Knowledge-base Markdown as HTML: headings moved two levels down, kb: links resolved, no
    raw HTML, no images."""
    tokens = md.parse(_kb_links(markdown, anchors))
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + 3)}"
    for token in tokens:
        for child in token.children or ():
            if child.type == "link_open":
                href = str(child.attrGet("href") or "")
                if not (href.startswith("#") or _safe_url(href)):
                    child.attrSet("href", "#")
                elif not href.startswith("#"):
                    child.attrSet("rel", "noreferrer")
    return str(md.renderer.render(tokens, md.options, {}))


def _sources_html(sources: Iterable[Source]) -> str:
    items = []
    for source in sources:
        text = html.escape(source.name + (f", {source.section}" if source.section else ""))
        url = _safe_url(source.url)
        items.append(
            f'<li><a href="{html.escape(url)}" rel="noreferrer">{text}</a></li>'
            if url
            else f"<li>{text}</li>"
        )
    if not items:
        return ""
    return f'<div class="sources">Sources:<ul>{"".join(items)}</ul></div>'


def _confidence_html(value: float) -> str:
    percent = max(0, min(100, round(value * 100)))
    return f'<span class="conf"><span style="width:{percent}%"></span></span>{value:.2f}'


def to_html(report: Report, *, figure: bytes | None = None, draw: bool = True) -> str:
    """The report as one self-contained HTML page. ``figure`` is a PNG to embed; when None and
    ``draw`` is true the figure is rendered here."""
    if figure is None and draw:
        figure = render_figure(report)
    md = _md_renderer()
    anchors = _anchors(report)
    d = report.diagnosis
    primary = report.primary
    out: list[str] = []
    add = out.append
    title = f"{d.title} ({d.symptom})" if d else "no diagnosis"
    add("<!DOCTYPE html>")
    add('<html lang="en"><head><meta charset="utf-8">')
    add(f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">')
    add('<meta name="viewport" content="width=device-width, initial-scale=1">')
    add('<meta name="color-scheme" content="light dark">')
    add(f'<meta name="generator" content="lossdoctor {html.escape(report.version)}">')
    add(f"<title>lossdoctor report: {html.escape(title)} · {_e(report.path)}</title>")
    add(f"<style>{_CSS}</style></head><body><main>")

    # header: the diagnosis in one glance
    add('<header><p class="kicker">lossdoctor report</p>')
    if d is not None:
        add(f'<h1 id="{html.escape(d.symptom)}">{html.escape(d.title)}</h1>')
        zh = f" · {html.escape(d.title_zh)}" if d.title_zh else ""
        add(f'<p class="subtitle">symptom <code>{html.escape(d.symptom)}</code>{zh}</p>')
    else:
        add("<h1>No diagnosis</h1>")
        add('<p class="subtitle">no usable loss series: nothing could be said about this log</p>')
    if primary is not None:
        add(
            '<div class="evidence"><span class="label">Evidence</span> '
            f'<span class="badge">confidence {primary.confidence:.2f}</span> '
            f'<span class="badge">{html.escape(_range(primary, report.step_unit))}</span>'
            f"<br>{_e(primary.summary)}</div>"
        )
    add('<dl class="meta">')
    add(f'<dt>Input</dt><dd><code class="path">{_e(report.path)}</code></dd>')
    add(f"<dt>Format</dt><dd>{_e(report.format)}</dd>")
    add(
        f"<dt>Generated</dt><dd>lossdoctor {html.escape(report.version)}, "
        f"{html.escape(report.generated)}</dd>"
    )
    add("</dl></header>")

    # the figure
    add('<section id="curves"><h2>Loss curves</h2>')
    if figure is not None:
        names = ", ".join(_e(c.label) for c in report.curves)
        data = base64.b64encode(figure).decode("ascii")
        add(
            f'<figure><img src="data:image/png;base64,{data}" '
            f'alt="Loss curves ({names}) with the findings\' step ranges marked">'
            "<figcaption>Shaded: the primary finding's range. Bars below the plot: every "
            "finding over its range, the primary one in red, ranked as in the table. "
            "× at the top: nan or inf readings.</figcaption></figure>"
        )
    if report.text_plot:
        add(
            "<details><summary>The same as text</summary>"
            f"<pre>{html.escape(plain(report.text_plot, keep_newlines=True))}</pre></details>"
        )
    if figure is None and not report.text_plot:
        add("<p>No loss series to draw.</p>")
    add("</section>")

    # findings
    add('<section id="findings"><h2>Findings</h2>')
    if report.findings:
        add(
            "<table><thead><tr><th>#</th><th>Symptom</th><th>Confidence</th><th>Range</th>"
            "<th>Evidence</th></tr></thead><tbody>"
        )
        for row in report.findings:
            mark = ' <span class="badge primary">primary</span>' if row.primary else ""
            link = (
                f'<a href="#{html.escape(row.symptom)}">{html.escape(row.title)}</a>'
                if row.primary and d is not None
                else html.escape(row.title)
            )
            add(
                f"<tr{' class=primary' if row.primary else ''}>"
                f'<td class="num">{row.rank}</td>'
                f"<td>{link}{mark}<br><code>{html.escape(row.symptom)}</code></td>"
                f'<td class="num">{_confidence_html(row.confidence)}</td>'
                f'<td class="num">{html.escape(_range(row, report.step_unit))}</td>'
                f'<td class="wrap">{_e(row.summary)}</td></tr>'
            )
        add("</tbody></table>")
    else:
        add("<p>None: the log has no usable loss series.</p>")
    add("</section>")

    # what the knowledge base says
    if d is not None:
        add('<section id="diagnosis"><h2>What it means</h2>')
        add(f'<div class="body">{_body_html(d.body, anchors, md)}</div>')
        add(_sources_html(d.sources))
        add("</section>")
        if d.causes:
            add('<section id="causes"><h2>Most likely causes</h2>')
            add(
                "<p>Ranked by the knowledge base, most likely first. Run the checks to tell "
                "them apart; each fix says what to change.</p>"
            )
            titles = {r.id: r.title for r in d.remedies}
            for number, cause in enumerate(d.causes, start=1):
                add(f'<article class="cause" id="{html.escape(cause.id)}">')
                add(
                    f'<h3><span class="rank">{number}.</span>{html.escape(cause.title)} '
                    f"<code>{html.escape(cause.id)}</code></h3>"
                )
                if cause.question:
                    add(f'<p class="ask">Ask: {html.escape(cause.question)}</p>')
                add('<div class="columns">')
                for heading, ids in (("Check", cause.checks), ("Fix", cause.fixes)):
                    add(f"<div><h4>{heading}</h4><ul>")
                    for entry_id in ids:
                        add(
                            f'<li><a href="#{html.escape(entry_id)}">'
                            f"{html.escape(titles.get(entry_id, entry_id))}</a> "
                            f"<code>{html.escape(entry_id)}</code></li>"
                        )
                    if not ids:
                        add("<li>none listed</li>")
                    add("</ul></div>")
                add("</div>")
                add(
                    "<details><summary>Why this happens</summary>"
                    f'<div class="body">{_body_html(cause.body, anchors, md)}</div></details>'
                )
                add(_sources_html(cause.sources))
                add("</article>")
            add("</section>")
        if d.remedies:
            add('<section id="checks-and-fixes"><h2>How to check and fix</h2>')
            for item in d.remedies:
                add(f'<article class="entry" id="{html.escape(item.id)}">')
                add(
                    f'<h3><span class="badge">{html.escape(item.kind)}</span> '
                    f"{html.escape(item.title)} <code>{html.escape(item.id)}</code></h3>"
                )
                add(f'<div class="body">{_body_html(item.body, anchors, md)}</div>')
                add(_sources_html(item.sources))
                add("</article>")
            add("</section>")

    # the series
    add('<section id="series"><h2>Series read from the log</h2>')
    add(
        "<table><thead><tr><th>Series</th><th>Split</th><th>Readings</th><th>Steps</th>"
        "<th>Values</th><th>nan / inf</th></tr></thead><tbody>"
    )
    for s in report.series:
        role = f' <span class="badge">{html.escape(s.role)}</span>' if s.role else ""
        add(
            f'<tr><td class="wrap"><code>{_e(s.name)}</code>{role}</td><td>{html.escape(s.split)}</td>'
            f'<td class="num">{s.readings:,}</td>'
            f'<td class="num">{html.escape(s.step_unit)} {_fmt_step(s.first_step)} – '
            f"{_fmt_step(s.last_step)}</td>"
            f'<td class="num">{_fmt_value(s.low)} – {_fmt_value(s.high)}</td>'
            f'<td class="num">{s.non_finite:,}</td></tr>'
        )
    add("</tbody></table>")
    if report.notes:
        add('<ul class="notes">' + "".join(f"<li>{_e(n)}</li>" for n in report.notes) + "</ul>")
    add("</section>")

    add("<footer>")
    if d is not None:
        add(
            f"More in the terminal: <code>lossdoctor show {html.escape(d.symptom)}</code> · "
            f"tell the causes apart: <code>lossdoctor chat --log {_e(report.path)}</code><br>"
        )
    add(
        f"Made by lossdoctor {html.escape(report.version)} on {html.escape(report.generated)}. "
        "This file loads nothing from the network.</footer>"
    )
    add("</main></body></html>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- Markdown

# Every character with a meaning in CommonMark or GitHub's extensions ($ math, @ mentions,
# ~ strikethrough, | tables) is backslash-escaped; untrusted text never starts a line (it
# always follows the report's own words) and has no newline, so -, + and . need none.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#!|~&$@])")


def md_escape(text: str) -> str:
    """Untrusted text for Markdown: control characters made visible, newlines as ``\\n``,
    every character with a Markdown meaning backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", plain(text))


def _md_url(url: str) -> str:
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def _sources_md(sources: Iterable[Source]) -> str:
    parts = []
    for source in sources:
        text = md_escape(source.name + (f", {source.section}" if source.section else ""))
        url = _safe_url(source.url)
        parts.append(f"[{text}]({_md_url(url)})" if url else text)
    return "Sources: " + "; ".join(parts) if parts else ""


def _shift_headings(markdown: str, levels: int) -> str:
    """Markdown with its ATX headings moved down, code blocks untouched."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            hashes = len(line) - len(line.lstrip("#"))
            line = "#" * min(6, hashes + levels) + line[hashes:]
        out.append(line)
    return "\n".join(out)


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def to_markdown(report: Report, *, figure: bytes | None = None, draw: bool = True) -> str:
    """The report as Markdown: the same content as the HTML, the figure as a data-URI image
    followed by the curves as text in a code block (GitHub does not show data URIs)."""
    if figure is None and draw:
        figure = render_figure(report)
    d = report.diagnosis
    primary = report.primary
    out: list[str] = []
    add = out.append
    if d is not None:
        add(f"# Diagnosis: {md_escape(d.title)} (`{d.symptom}`)")
        if d.title_zh:
            add("")
            add(f"*{md_escape(d.title_zh)}*")
    else:
        add("# Diagnosis: none")
        add("")
        add("No usable loss series: nothing could be said about this log.")
    add("")
    if primary is not None:
        add(
            f"> **Evidence** (confidence {primary.confidence:.2f}, "
            f"{md_escape(_range(primary, report.step_unit))}): {md_escape(primary.summary)}"
        )
        add("")
    add("| | |")
    add("|---|---|")
    add(f"| Input | {md_escape(report.path)} |")
    add(f"| Format | {md_escape(report.format)} |")
    add(f"| Generated | lossdoctor {md_escape(report.version)}, {report.generated} |")
    add("")

    add("## Loss curves")
    add("")
    if figure is not None:
        data = base64.b64encode(figure).decode("ascii")
        add(f"![Loss curves with the findings' step ranges marked](data:image/png;base64,{data})")
        add("")
    if report.text_plot:
        text = plain(report.text_plot, keep_newlines=True)
        fence = _fence(text)
        add(f"{fence}text")
        add(text)
        add(fence)
        add("")

    add("## Findings")
    add("")
    if report.findings:
        add("| # | Symptom | Confidence | Range | Evidence |")
        add("|--:|---|--:|---|---|")
        for row in report.findings:
            name = f"**{md_escape(row.title)}** (`{row.symptom}`)"
            if row.primary:
                name = "★ " + name + " — primary"
            add(
                f"| {row.rank} | {name} | {row.confidence:.2f} | "
                f"{md_escape(_range(row, report.step_unit))} | {md_escape(row.summary)} |"
            )
    else:
        add("None: the log has no usable loss series.")
    add("")

    if d is not None:
        add("## What it means")
        add("")
        add(_shift_headings(_kb_links(d.body, set()), 3))
        add("")
        add(_sources_md(d.sources))
        add("")
        if d.causes:
            add("## Most likely causes")
            add("")
            titles = {r.id: r.title for r in d.remedies}
            for number, cause in enumerate(d.causes, start=1):
                add(f"### {number}. {md_escape(cause.title)} (`{cause.id}`)")
                add("")
                if cause.question:
                    add(f"*Ask:* {md_escape(cause.question)}")
                    add("")
                for heading, ids in (("Check", cause.checks), ("Fix", cause.fixes)):
                    for entry_id in ids:
                        add(
                            f"- **{heading}:** {md_escape(titles.get(entry_id, entry_id))} (`{entry_id}`)"
                        )
                add("")
                add(_sources_md(cause.sources))
                add("")
        if d.remedies:
            add("## How to check and fix")
            add("")
            for item in d.remedies:
                add(f"### {item.kind.capitalize()}: {md_escape(item.title)} (`{item.id}`)")
                add("")
                add(_shift_headings(_kb_links(item.body, set()), 3))
                add("")
                add(_sources_md(item.sources))
                add("")

    add("## Series read from the log")
    add("")
    add("| Series | Split | Readings | Steps | Values | nan / inf |")
    add("|---|---|--:|---|---|--:|")
    for s in report.series:
        role = f" ({s.role})" if s.role else ""
        add(
            f"| {md_escape(s.name)}{role} | {s.split} | {s.readings:,} | "
            f"{s.step_unit} {_fmt_step(s.first_step)} – {_fmt_step(s.last_step)} | "
            f"{_fmt_value(s.low)} – {_fmt_value(s.high)} | {s.non_finite:,} |"
        )
    add("")
    for note in report.notes:
        add(f"- note: {md_escape(note)}")
    if report.notes:
        add("")
    add("---")
    add("")
    more = f"More in the terminal: `lossdoctor show {d.symptom}`. " if d is not None else ""
    add(f"{more}Made by lossdoctor {md_escape(report.version)} on {report.generated}.")
    return "\n".join(out) + "\n"
