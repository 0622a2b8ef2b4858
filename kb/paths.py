"""Where the knowledge base's files are: the shipped ``content/`` and the index cache.

An installed wheel carries ``content/`` as ``kb/content``; a source checkout (or an editable
install) has it beside ``kb/``. ``LOSSDOCTOR_CONTENT`` points elsewhere (tests, authors).
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def content_dir() -> Path:
    """The directory holding the knowledge base's Markdown entries."""
    override = os.environ.get("LOSSDOCTOR_CONTENT")
    if override:
        return Path(override)
    installed = _PACKAGE_DIR / "content"
    if (installed / "symptoms").is_dir():
        return installed
    return _PACKAGE_DIR.parent / "content"


def cache_dir() -> Path:
    """Where built indexes are kept; ``LOSSDOCTOR_CACHE`` overrides the user cache dir."""
    override = os.environ.get("LOSSDOCTOR_CACHE")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("lossdoctor"))
