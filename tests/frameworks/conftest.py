"""Fixtures for the framework callback tests: each framework is imported by a fixture that
skips the test, saying what to ``pip install``, when the framework is missing, or fails it
when ``LOSSDOCTOR_REQUIRE_FRAMEWORKS=1`` (CI installs them and must run these tests).

Keras runs on its torch backend; torch uses one thread, since these models are tiny and the
machine is shared.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

# Keras reads its backend once, when it is first imported.
os.environ["KERAS_BACKEND"] = "torch"

REQUIRED = os.environ.get("LOSSDOCTOR_REQUIRE_FRAMEWORKS") == "1"
"""Whether a missing framework fails its tests instead of skipping them."""


def need(*modules: str, install: str) -> list[ModuleType]:
    """Import ``modules``, or skip (fail when :data:`REQUIRED`) naming what to install."""
    imported = []
    for name in modules:
        try:
            imported.append(importlib.import_module(name))
        except ImportError as error:
            reason = f"{name} cannot be imported ({error}): pip install {install}"
            break
    else:
        return imported
    unavailable(reason)
    raise AssertionError("unreachable")


def unavailable(reason: str) -> None:
    """Skip the test, or fail it when the frameworks are required."""
    if REQUIRED:
        pytest.fail(f"LOSSDOCTOR_REQUIRE_FRAMEWORKS=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _one_thread(torch: ModuleType) -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def keras() -> ModuleType:
    """Keras 3 on the torch backend."""
    torch, keras = need("torch", "keras", install="keras torch")
    if int(keras.__version__.split(".")[0]) < 3 or keras.backend.backend() != "torch":
        unavailable(f"keras {keras.__version__} on {keras.backend.backend()}: pip install -U keras")
    _one_thread(torch)
    return keras


@pytest.fixture(scope="session")
def lightning() -> ModuleType:
    """``lightning.pytorch``."""
    torch, pl = need("torch", "lightning.pytorch", install="lightning")
    _one_thread(torch)
    return pl


@pytest.fixture(scope="session")
def transformers() -> ModuleType:
    """``transformers`` with what its ``Trainer`` needs (``accelerate``)."""
    torch, transformers, _ = need(
        "torch", "transformers", "accelerate", install="transformers accelerate"
    )
    _one_thread(torch)
    return transformers
