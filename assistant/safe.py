"""Untrusted text (log lines, file names, queries) made safe to show.

Terminal escape sequences and other control characters are replaced by visible escapes, so a
log line can neither recolour the terminal nor move the cursor; Rich markup is never
interpreted because front ends pass these strings as plain ``Text``, never as markup.
"""

from __future__ import annotations

import re

_ESCAPE_SEQUENCE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with escape sequences and control characters shown as ``\\x1b`` style escapes
    and unpaired surrogates (undecodable bytes) as ``\\udcXX``."""
    text = _ESCAPE_SEQUENCE.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)
    text = _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)
    if not keep_newlines:
        text = text.replace("\n", "\\n")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
