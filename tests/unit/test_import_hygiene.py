"""The library and the command line start without the TUI or scikit-learn (harlequin's rule)."""

from __future__ import annotations

import json
import subprocess
import sys


def _modules_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    probe = code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_knowledge_base_and_cli_modules_do_not_import_textual() -> None:
    modules = _modules_after(
        "import kb.load, kb.validate, kb.search, kb.numbers, kb.index, kb.tree, assistant.cli, "
        "assistant.render"
    )
    assert "textual" not in modules
    assert "sklearn" not in modules


def test_the_engine_search_and_triage_do_not_import_textual() -> None:
    modules = _modules_after(
        "import assistant.interview, assistant.chat, assistant.triage.read, "
        "assistant.triage.detect, assistant.triage.readers, kb.search"
    )
    assert "textual" not in modules and "rich" not in modules


def test_help_does_not_import_the_tui_or_scikit_learn() -> None:
    modules = _modules_after(
        "from assistant.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    )
    assert "textual" not in modules and "sklearn" not in modules


def test_a_search_with_a_built_index_imports_neither_textual_nor_sklearn(
    cli_env: dict[str, str],
) -> None:
    code = "from kb.search import search; search('loss is nan')"
    subprocess.run(
        [sys.executable, "-c", code], check=True, env=cli_env, capture_output=True
    )  # builds the index
    modules = _modules_after(code, env=cli_env)
    assert "sklearn" not in modules and "textual" not in modules and "pandas" not in modules
