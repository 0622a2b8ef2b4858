"""Regenerate the README's transcript: run each ``$ lossdoctor ...`` command listed between the
transcript markers and write its real output under it.

    python scripts/readme_transcript.py          # rewrite README.md
    python scripts/readme_transcript.py --check  # exit 1 when the README is stale

Commands run from the repository root with COLUMNS=100 and no colour, as tests/cli/test_readme.py
does.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
START, END = "<!-- transcript:start -->", "<!-- transcript:end -->"
COMMAND = re.compile(r"^\$ (lossdoctor .*)$", re.M)


def lossdoctor() -> list[str]:
    script = Path(sys.executable).with_name("lossdoctor")
    return [str(script)] if script.exists() else [sys.executable, "-m", "assistant"]


def render(readme: str, env: dict[str, str] | None = None) -> str:
    """The README with every transcript command's output regenerated."""
    head, rest = readme.split(START, 1)
    body, tail = rest.split(END, 1)
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", **(env or {})}
    blocks = []
    for command in COMMAND.findall(body):
        argv = shlex.split(command)
        done = subprocess.run(
            [*lossdoctor(), *argv[1:]], capture_output=True, text=True, env=env, cwd=REPO
        )
        output = (
            done.stdout
            + done.stderr.replace(
                "lossdoctor: building the search index (once per content change)...\n", ""
            )
        ).rstrip()
        blocks.append(f"```console\n$ {command}\n{output}\n```")
    return f"{head}{START}\n" + "\n\n".join(blocks) + f"\n{END}{tail}"


def main() -> int:
    path = REPO / "README.md"
    current = path.read_text(encoding="utf-8")
    fresh = render(current)
    if "--check" in sys.argv:
        if fresh != current:
            print(
                "README.md transcript is stale: run python scripts/readme_transcript.py",
                file=sys.stderr,
            )
            return 1
        return 0
    path.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
