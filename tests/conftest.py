"""Shared fixtures: the real ``lossdoctor`` entry point run as a process, with its own cache."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# In-process tests get a private index cache too (the CLI fixture below shares it).
os.environ.setdefault("LOSSDOCTOR_CACHE", tempfile.mkdtemp(prefix="lossdoctor-test-cache-"))


def lossdoctor_command() -> list[str]:
    """The installed console script, or ``python -m assistant`` when it is not on PATH."""
    script = Path(sys.executable).with_name("lossdoctor")
    if script.exists():
        return [str(script)]
    found = shutil.which("lossdoctor")
    return [found] if found else [sys.executable, "-m", "assistant"]


@pytest.fixture(scope="session")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for CLI runs: a private index cache, no colour, a fixed terminal width."""
    env = dict(os.environ)
    env["LOSSDOCTOR_CACHE"] = os.environ["LOSSDOCTOR_CACHE"]
    env["COLUMNS"] = "100"
    env["NO_COLOR"] = "1"
    env.pop("LOSSDOCTOR_CONTENT", None)
    return env


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def run(cli_env: dict[str, str]) -> Run:
    """Run ``lossdoctor ARGS`` and return the finished process (text mode)."""

    def _run(
        *args: str | bytes,
        stdin: str | bytes | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
        done = subprocess.run(
            [*lossdoctor_command(), *args], input=data, capture_output=True,
            env={**cli_env, **(env or {})}, timeout=timeout, cwd=REPO,
        )  # fmt: skip
        return subprocess.CompletedProcess(
            done.args,
            done.returncode,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
        )

    return _run
