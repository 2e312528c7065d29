"""Shared fixtures: keep the developer's machine out of every test.

HOME and every XDG directory point into the test's tmp_path, so no real config,
state or socket is ever read or written, and git sees no user config.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--soak",
        action="store_true",
        default=False,
        help="run the long versions of the randomized lifecycle tests (minutes, not seconds)",
    )
    parser.addoption(
        "--fuzz-seconds",
        action="store",
        type=float,
        default=None,
        metavar="N",
        help="run each parser fuzz test (tests/term/test_parser_fuzz.py) for N seconds of "
        "wall time, from a random seed, instead of its fixed set of cases",
    )


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point HOME, XDG dirs and git's config at a private temp dir."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
    ):
        path = home / sub
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(path))
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    # Git must not read the developer's ~/.gitconfig, and commits need an identity.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = ptui test\n\temail = test@ptui.invalid\n[init]\n\tdefaultBranch = main\n"
    )
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "PTUI_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    old = os.getcwd()
    yield home
    os.chdir(old)
    _kill_servers_of(runtime)


def _kill_servers_of(runtime: Path) -> None:
    """The last line of defence: no ptui server of this test outlives it.

    Tests stop their servers; one started late (say by a `ptui proxy` still
    running when the test's own stop came) would otherwise live on for good.
    """
    marker = f"XDG_RUNTIME_DIR={runtime}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmd:
                if b"server\0--foreground" not in cmd.read():
                    continue
            with open(f"/proc/{entry}/environ", "rb") as env:
                if marker not in env.read().split(b"\0"):
                    continue
            os.kill(int(entry), signal.SIGKILL)
        except OSError:
            continue
