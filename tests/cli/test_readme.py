"""The README is true: its test command is what CI runs, and its transcript is real output."""

from __future__ import annotations

import re

from scripts.readme_transcript import render
from tests.conftest import REPO


def test_the_readme_test_command_is_the_one_ci_runs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.+?)\n```", quick_start)
    assert len(commands) == 2
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert f'test_command="{commands[1]}"' in ci


def test_the_transcript_is_the_real_output(cli_env: dict[str, str]) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert render(readme, env=cli_env) == readme, "run: python scripts/readme_transcript.py"
