"""``lossdoctor search``, ``show``, ``explain`` and ``kb`` through the real entry point."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, Run


def test_search_json_has_the_documented_shape_best_first(run: Run) -> None:
    done = run("search", "loss stuck at 87.33", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["query"] == "loss stuck at 87.33"
    assert len(data["hits"]) == 5
    for hit in data["hits"]:
        assert set(hit) == {"id", "kind", "title", "score"}
        assert hit["kind"] in ("symptom", "cause", "check", "fix")
        assert isinstance(hit["score"], float)
    scores = [h["score"] for h in data["hits"]]
    assert scores == sorted(scores, reverse=True)
    assert data["hits"][0]["id"] == "stuck-87-3365"


def test_search_k_limits_the_hits_and_words_need_no_quotes(run: Run) -> None:
    done = run("search", "my", "loss", "is", "nan", "-k", "2", "--json")
    data = json.loads(done.stdout)
    assert data["query"] == "my loss is nan" and len(data["hits"]) == 2
    assert data["hits"][0]["id"] == "nan-loss"


def test_search_text_lists_ranked_entries_and_fits_the_terminal(run: Run) -> None:
    done = run("search", "訓練loss不下降")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0] == 'Best matches for "訓練loss不下降":'
    assert any(line.lstrip().startswith("1. ") for line in lines)
    assert all(len(line) <= 100 for line in lines)


def test_search_reads_the_query_from_stdin(run: Run) -> None:
    done = run("search", "-", "--json", stdin="验证集loss上升")
    assert done.returncode == 0
    assert json.loads(done.stdout)["query"] == "验证集loss上升"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("search", ""), None, "the query is empty"),
        (("search", "   "), None, "the query is empty"),
        (("search", "-"), "x" * 1_048_576, "over 10,000 bytes"),
        (("search", "loss " * 3000), None, "the limit is 10,000"),
        (("search", b"\xff\xfeloss"), None, "binary data"),
        (("search", "-"), b"\x00\x01\xffloss", "binary data"),
        (("search", "loss", "-k", "0"), None, "-k must be at least 1"),
        (("search", "loss", "-k", "many"), None, "invalid int value"),
        (("show", "no-such-entry"), None, "no entry with id 'no-such-entry'"),
        (("explain", "abc"), None, "'abc' is not a number"),
        (("explain", "nan"), None, "is not a number"),
        (("frobnicate",), None, "invalid choice"),
        (("kb",), None, "kb needs an action"),
    ],
    ids=[
        "empty",
        "blank",
        "1MB-stdin",
        "30KB-argv",
        "binary-argv",
        "binary-stdin",
        "k0",
        "k-text",
        "unknown-id",
        "explain-text",
        "explain-nan",
        "unknown-command",
        "kb-no-action",
    ],
)
def test_bad_input_gets_one_clear_line_and_exit_2(
    run: Run, args: tuple[str | bytes, ...], stdin: str | bytes | None, message: str
) -> None:
    done = run(*args, stdin=stdin)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert message in lines[0]
    assert "Traceback" not in done.stderr


def test_show_renders_a_symptom_with_its_causes_checks_fixes_and_sources(run: Run) -> None:
    done = run("show", "stuck-87-3365")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "87.3365" in out
    assert "Causes, most likely first" in out
    assert "softmax-overflow" in out and "lower-learning-rate" in out
    assert "Sources" in out and "Seed article" in out


def test_show_json_lists_links_both_ways(run: Run) -> None:
    data = json.loads(run("show", "softmax-overflow", "--json").stdout)
    assert data["kind"] == "cause" and data["checks"] and data["fixes"]
    assert "stuck-87-3365" in data["linked_from"]


def test_explain_names_the_formula_and_the_closest_entries(run: Run) -> None:
    done = run("explain", "43.67")
    assert done.returncode == 0
    assert "1/2" in done.stdout and "FLT_MIN" in done.stdout and "stuck-87-3365" in done.stdout
    data = json.loads(run("explain", "2.30", "--json").stdout)
    assert data["explanations"][0]["classes"] == 10
    assert data["explanations"][0]["symptom"] == "stuck-at-chance"
    assert data["hits"][0]["id"] == "stuck-at-chance"


def test_explain_says_when_a_value_means_nothing(run: Run) -> None:
    done = run("explain", "0.4213")
    assert done.returncode == 0
    assert "no known meaning" in done.stdout


def test_kb_check_passes_on_the_shipped_content(run: Run) -> None:
    done = run("kb", "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert ": ok" in done.stdout


def test_kb_check_fails_with_file_and_line_on_broken_content(run: Run, tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(REPO / "tests" / "data" / "content", content)
    (content / "fixes" / "smaller-step.md").write_text(
        "---\nid: smaller-step\nkind: [\n---\nx\n", encoding="utf-8"
    )
    done = run("kb", "check", "--content", str(content))
    assert done.returncode == 1
    assert f"{content}/fixes/smaller-step.md:" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_python_m_assistant_is_the_same_program(run: Run) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "assistant", "--version"], capture_output=True, text=True, cwd=REPO
    )
    assert done.returncode == 0 and done.stdout.startswith("lossdoctor ")
