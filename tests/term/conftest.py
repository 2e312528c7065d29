"""Fixtures shared by the tests that compare with tmux."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .difftest import Capture, shutdown_tmux


@pytest.fixture(scope="module")
def captures() -> Iterator[dict[str, Capture]]:
    """tmux captures by case id, made once and shared by a module's checks; the private
    tmux server they come from is shut down when the module is done."""
    cache: dict[str, Capture] = {}
    yield cache
    shutdown_tmux()
