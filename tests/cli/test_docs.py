"""Every command teaches: each ``--help`` has a description, and the README's commands run."""

from __future__ import annotations

import argparse

import pytest

from assistant.cli import build_parser
from tests.conftest import Run


def _commands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    found = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _commands(sub, (*prefix, name))
    return found


COMMANDS = _commands(build_parser())


def test_every_command_is_listed() -> None:
    assert ("search",) in COMMANDS and ("kb", "check") in COMMANDS


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "lossdoctor")
def test_every_command_has_help_text(run: Run, command: tuple[str, ...]) -> None:
    done = run(*command, "--help")
    assert done.returncode == 0
    assert "usage: lossdoctor" in done.stdout
    # a description beyond the usage line, and every option explained
    body = done.stdout.split("\n\n", 1)[1]
    assert len(body.strip()) > 40
    assert "  -h, --help" in done.stdout
