"""Where ptui keeps its files: every directory follows the XDG variables set by conftest."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tui import paths
from tui.paths import PathsError


def test_directories_follow_xdg_variables(isolated_home: Path) -> None:
    assert paths.config_dir() == isolated_home / ".config/ptui"
    assert paths.data_dir() == isolated_home / ".local/share/ptui"
    assert paths.state_dir() == isolated_home / ".local/state/ptui"
    assert paths.config_file() == isolated_home / ".config/ptui/config.toml"
    assert paths.state_file() == isolated_home / ".local/state/ptui/state.db"
    assert paths.legacy_state_file() == isolated_home / ".local/state/ptui/state.toml"
    assert paths.log_dir() == isolated_home / ".local/state/ptui/logs"
    assert paths.archive_dir() == isolated_home / ".local/share/ptui/archives"
    assert paths.user_themes_dir() == isolated_home / ".config/ptui/themes"


def test_variables_are_read_at_call_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "elsewhere"))
    assert paths.archive_dir() == tmp_path / "elsewhere/ptui/archives"


def test_relative_xdg_value_is_ignored(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The XDG spec says relative paths are invalid and must be ignored.
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")
    assert paths.config_dir() == isolated_home / ".config/ptui"


def test_ptui_config_overrides_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTUI_CONFIG", str(tmp_path / "mine.toml"))
    assert paths.config_file() == tmp_path / "mine.toml"


def test_runtime_dir_falls_back_to_tmp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert paths.runtime_dir() == Path(f"/tmp/ptui-{os.getuid()}")


def test_socket_dir_is_created_private(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        path = paths.socket_dir()
    finally:
        os.umask(old_umask)
    assert path == tmp_path / "run/ptui"
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert paths.socket_dir() == path  # an existing private directory is fine
    assert paths.socket_path() == path / "server.sock"


def test_socket_dir_open_to_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "run/ptui"
    path.mkdir(mode=0o700)
    path.chmod(0o755)
    with pytest.raises(PathsError) as info:
        paths.socket_dir()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ") and "0755" in message


def test_socket_dir_symlink_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir(mode=0o700)
    (tmp_path / "run/ptui").symlink_to(target)
    with pytest.raises(PathsError, match="not a directory"):
        paths.socket_dir()


@pytest.mark.skipif(os.getuid() != 0, reason="only root can give a directory to another uid")
def test_socket_dir_of_another_owner_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "run/ptui"
    path.mkdir(mode=0o700)
    os.chown(path, 4242, -1)
    with pytest.raises(PathsError, match="owned by uid 4242"):
        paths.socket_dir()


def test_bundled_themes_are_found() -> None:
    themes = paths.bundled_themes_dir()
    names = sorted(p.name for p in themes.glob("*.toml"))
    assert names == ["dark.toml", "high-contrast.toml", "light.toml"]


@pytest.mark.parametrize("platform", ["darwin", "win32", "freebsd14"])
def test_ptui_says_it_runs_on_linux_only(platform: str) -> None:
    """Elsewhere every connection would be refused without SO_PEERCRED: one clear line."""
    code = (
        f"import sys; sys.platform = {platform!r}; from tui.cli import main; sys.exit(main(['ls']))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr == (
        "ptui: error: ptui runs on Linux only (it needs SO_PEERCRED and /proc); "
        f"this is {platform}\n"
    )
