"""The TUI's pure parts without an app: the braille plot, curve reduction, path completion,
and the import rule (the session and plot modules load without Textual)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from assistant.tui.path_suggester import PathSuggester
from assistant.tui.plot import Curve, braille_plot, reduce_curve, wants_log_scale


def rows_of(grid) -> list[str]:  # type: ignore[no-untyped-def]
    return ["".join(cell.char for cell in row) for row in grid]


def test_a_flat_curve_after_a_drop_is_drawn_with_labels_and_the_span_marked() -> None:
    steps = np.arange(0, 2000, 20.0)
    values = np.where(steps < 200, 6.0, 87.3365)
    grid = braille_plot([Curve("train", steps, values)], 60, 10, span=(200, 1980))
    rows = rows_of(grid)
    assert len(rows) == 10 and all(len(r) == 60 for r in rows)
    assert rows[0].strip().startswith("87.34")
    assert rows[-1].strip().endswith("1980")
    assert any(cell.marked for row in grid for cell in row)
    assert any(cell.role == "train" for row in grid for cell in row)


def test_nan_only_series_say_there_is_nothing_to_plot() -> None:
    grid = braille_plot([Curve("train", np.arange(3.0), np.full(3, np.nan))], 40, 6)
    assert any("no finite loss values" in row for row in rows_of(grid))


def test_an_exploding_loss_gets_a_log_axis() -> None:
    x = np.arange(100.0)
    assert wants_log_scale([Curve("train", x, np.exp(x / 5))])
    assert not wants_log_scale([Curve("train", x, 2.0 - x / 100)])


def test_a_million_readings_reduce_to_a_few_thousand_keeping_a_lone_spike() -> None:
    values = np.ones(1_000_000)
    values[123_457] = 50.0
    values[900_000] = np.nan
    curve = reduce_curve("train", np.arange(1_000_000.0), values, max_points=4000)
    assert curve.values.size <= 4100
    assert np.nanmax(curve.values) == 50.0


def test_paths_complete_from_the_file_system(tmp_path: Path) -> None:
    (tmp_path / "train-run.log").write_text("x")
    (tmp_path / "trainer").mkdir()
    suggester = PathSuggester()
    assert asyncio.run(suggester.get_suggestion(str(tmp_path / "train-r"))) == str(
        tmp_path / "train-run.log"
    )
    assert (
        asyncio.run(suggester.get_suggestion(str(tmp_path / "traine")))
        == str(tmp_path / "trainer") + "/"
    )
    assert asyncio.run(suggester.get_suggestion(str(tmp_path / "nothing"))) is None


def test_the_session_and_plot_modules_do_not_import_textual() -> None:
    code = "import assistant.tui, assistant.tui.session, assistant.tui.plot, sys, json; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "textual" not in json.loads(done.stdout)
