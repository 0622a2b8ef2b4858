"""``pip install .`` ships every package and the knowledge base."""

from __future__ import annotations

import tomllib

from tests.conftest import REPO


def test_every_python_package_is_listed_for_the_wheel() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(REPO).parts)
        for top in ("kb", "assistant")
        for init in (REPO / top).rglob("__init__.py")
    }
    assert on_disk <= listed, f"add to pyproject packages: {sorted(on_disk - listed)}"
    assert "kb.content" in listed
    assert config["tool"]["setuptools"]["package-dir"]["kb.content"] == "content"


def test_the_content_package_data_covers_every_content_file() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["kb.content"]
    content = REPO / "content"
    for path in content.rglob("*"):
        if path.is_file() and path.suffix in (".md", ".tsv"):
            relative = path.relative_to(content)
            assert any(relative.match(p) for p in patterns), relative
