"""Where ptui keeps its files: XDG directories, the socket directory, bundled themes.

Every function reads the environment when called (never at import), so tests and
users can point HOME and the XDG_* variables anywhere. An absolute XDG variable is
honoured on every platform; otherwise platformdirs picks the platform's place.
Nothing here creates a directory except `socket_dir`, which must also check who
owns it; callers create the others when they first write.
"""

from __future__ import annotations

import importlib.resources
import os
import stat
from pathlib import Path

import platformdirs

from tui.errors import PtuiError

APP_NAME = "ptui"
CONFIG_ENV = "PTUI_CONFIG"
"""Environment variable naming the global config file, overriding the default path."""

CONFIG_FILE_NAME = "config.toml"
REPO_CONFIG_NAME = ".ptui.toml"
STATE_FILE_NAME = "state.db"
LEGACY_STATE_FILE_NAME = "state.toml"
"""The TOML state file of ptui before the SQLite store; imported once, left in place."""
SOCKET_NAME = "server.sock"


class PathsError(PtuiError):
    """A ptui directory is unsafe or missing; the message names it."""


def _xdg(var: str) -> Path | None:
    """The directory in `var` if it is set to an absolute path (the XDG spec ignores others)."""
    value = os.environ.get(var, "")
    return Path(value) / APP_NAME if value and os.path.isabs(value) else None


def config_dir() -> Path:
    """The user's ptui config directory (`$XDG_CONFIG_HOME/ptui`, `~/.config/ptui`)."""
    return _xdg("XDG_CONFIG_HOME") or platformdirs.user_config_path(APP_NAME)


def data_dir() -> Path:
    """The user's ptui data directory (`$XDG_DATA_HOME/ptui`, `~/.local/share/ptui`)."""
    return _xdg("XDG_DATA_HOME") or platformdirs.user_data_path(APP_NAME)


def state_dir() -> Path:
    """The user's ptui state directory (`$XDG_STATE_HOME/ptui`, `~/.local/state/ptui`)."""
    return _xdg("XDG_STATE_HOME") or platformdirs.user_state_path(APP_NAME)


def runtime_dir() -> Path:
    """Where the server's socket lives: `$XDG_RUNTIME_DIR/ptui`, else `/tmp/ptui-$UID`.

    Not platformdirs' fallback (`/run/user/$UID`): that directory may not exist
    outside a login session (cron, `su`, containers), while /tmp always does, and
    tmux uses the same `/tmp/<name>-$UID` convention.
    """
    return _xdg("XDG_RUNTIME_DIR") or Path(f"/tmp/{APP_NAME}-{os.getuid()}")


def config_file() -> Path:
    """The global config file: `$PTUI_CONFIG` if set, else `<config_dir>/config.toml`."""
    override = os.environ.get(CONFIG_ENV, "")
    return Path(override).expanduser() if override else config_dir() / CONFIG_FILE_NAME


def state_file() -> Path:
    """The session records and operation journal, SQLite (`<state_dir>/state.db`)."""
    return state_dir() / STATE_FILE_NAME


def legacy_state_file() -> Path:
    """Where an older ptui kept its records (`<state_dir>/state.toml`), imported once."""
    return state_dir() / LEGACY_STATE_FILE_NAME


def log_dir() -> Path:
    """Server and session logs (`<state_dir>/logs`: logs are state, per the XDG spec)."""
    return state_dir() / "logs"


def archive_dir() -> Path:
    """Archived sessions' snapshots (`<data_dir>/archives`): user data, never cache."""
    return data_dir() / "archives"


def user_themes_dir() -> Path:
    """The user's own themes (`<config_dir>/themes`), which override bundled ones by name."""
    return config_dir() / "themes"


def bundled_themes_dir() -> Path:
    """The themes shipped with ptui.

    A wheel carries `themes/` as `tui/themes` (hatch force-include); an editable
    install runs from the source checkout, where it sits at the top level.
    """
    packaged = importlib.resources.files("tui") / "themes"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parent.parent / "themes"
    if checkout.is_dir():
        return checkout
    raise PathsError(f"ptui's bundled themes are missing (looked in {packaged} and {checkout})")


def socket_dir() -> Path:
    """The server's private socket directory, created 0700 if missing.

    Refuses (like tmux) a directory that is not ours, not a real directory, or open
    to group/other: anyone who can write there could plant a fake server.
    """
    path = runtime_dir()
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise PathsError(f"{path}: cannot create socket directory: {exc.strerror}") from None
    else:
        # mkdir's mode is filtered by the umask; make it exactly 0700.
        os.chmod(path, 0o700)
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise PathsError(f"{path}: cannot check socket directory: {exc.strerror}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise PathsError(f"{path}: socket directory is not a directory; remove it")
    if info.st_uid != os.getuid():
        raise PathsError(
            f"{path}: socket directory is owned by uid {info.st_uid}, not you ({os.getuid()})"
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise PathsError(
            f"{path}: socket directory is open to others (mode {mode:04o}); run `chmod 700 {path}`"
        )
    return path


def unsafe_dir_reason(path: Path) -> str | None:
    """Why `path` is no place for the user's files (checkouts, copied `.env`s), or None.

    The nearest existing directory on the way to `path` (symlinks resolved) is where
    ptui would create it: it must be the user's own and closed to group and others.
    Every directory above it must belong to the user or root and, if others can write
    in it, be sticky (`/tmp`): otherwise someone else could move the tree away and
    put their own in its place.
    """
    target = Path(os.path.realpath(path))
    nearest: Path | None = None
    for directory in (target, *target.parents):
        try:
            info = os.stat(directory)
        except FileNotFoundError:
            continue
        except OSError as exc:
            return f"cannot be checked: {directory}: {exc.strerror}"
        mode = stat.S_IMODE(info.st_mode)
        if nearest is None:
            nearest = directory
            if not stat.S_ISDIR(info.st_mode):
                return f"is not a directory: {directory}"
            if info.st_uid != os.getuid():
                return f"is not in your own directories: {directory} belongs to uid {info.st_uid}"
            if mode & 0o022:
                return f"is open to others: {directory} is writable by them (mode {mode:04o})"
        elif info.st_uid not in (os.getuid(), 0):
            return f"is inside {directory}, which belongs to uid {info.st_uid}"
        elif mode & 0o022 and not mode & stat.S_ISVTX:
            return f"is inside {directory}, which others can write to (mode {mode:04o})"
    return None


def socket_path() -> Path:
    """The server's Unix socket inside `socket_dir()` (which is created and checked)."""
    return socket_dir() / SOCKET_NAME


def server_lock_file() -> Path:
    """The server's single-instance lock, holding its pid, beside its socket."""
    return socket_dir() / "server.lock"


def server_log_file() -> Path:
    """The server's log (rotated beside itself: `server.log.1` ...)."""
    return log_dir() / "server.log"
