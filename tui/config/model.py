"""What a loaded config is: a tree of frozen dataclasses with every default filled in.

`Config` holds one dataclass per section ([git], [terminal], [ui], [server]) plus the
agent profiles (`tui.config.agents`) and scripts. The defaults written here are the
ones ptui runs with; `tui.config.schema` reads them from here rather than repeating them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tui.config.agents import AgentProfile
from tui.errors import PtuiError

PORTS_PER_SESSION = 10
"""Each session owns a block of this many ports, starting at `PTUI_PORT`."""


class ConfigError(PtuiError):
    """A config file is invalid; the message is one line `path:line: message`."""


@dataclass(frozen=True)
class GitConfig:
    """`[git]`: how session branches and worktrees are made."""

    branch_prefix: str = "ptui/"
    """Prefix of every session branch: `ptui/fix-login`."""
    worktrees_dir: str = ""
    """Where worktrees go; "" means `<repo parent>/<repo name>.ptui-worktrees`."""
    default_base: str = ""
    """Branch, tag or commit new sessions start from; "" means the current branch."""

    def worktrees_path(self, repo: Path) -> Path:
        """The directory holding `repo`'s session worktrees (relative paths: to `repo`)."""
        if not self.worktrees_dir:
            return repo.parent / f"{repo.name}.ptui-worktrees"
        return repo / Path(self.worktrees_dir).expanduser()


@dataclass(frozen=True)
class TerminalConfig:
    """`[terminal]`: the emulator behind every session."""

    scrollback: int = 10_000
    """Lines of history kept per session."""
    sync_timeout_ms: int = 150
    """Longest hold of a synchronized-output frame (`?2026h`) before it is drawn anyway."""


@dataclass(frozen=True)
class UiConfig:
    """`[ui]`: the terminal client."""

    theme: str = "ptui-dark"
    """Theme name, from `themes/` or `<config dir>/themes`."""
    # ctrl+] (GS, 0x1d) because no agent ptui runs uses it: Claude Code and Codex take
    # ctrl+c/d/t/r/o/g/j/b/f/u/k/z, esc and shift+tab; opencode's leader is ctrl+x;
    # ctrl+b is tmux's prefix (and Claude's "background this command"); readline's
    # ctrl+] (character-search) is rarely used; telnet made it the escape key.
    leader: str = "ctrl+right_square_bracket"
    """Key that starts a ptui command while a session has the keyboard (written as ctrl+])."""
    notify: tuple[str, ...] = ("toast",)
    """Channels that announce a session needing you: toast, bell, osc9, osc777, desktop
    (`tui.app.notify`); empty: none. A file may also give one of the older words
    (`tui.config.schema.notify_channels`)."""
    keys: Mapping[str, str] = field(default_factory=dict)
    """Binding id -> key(s), comma separated: remaps ptui's own bindings."""


@dataclass(frozen=True)
class ServerConfig:
    """`[server]`: the per-user session host."""

    port_base: int = 41_000
    """First port handed out; session n gets `port_base + 10 * n` and the 9 above it."""
    log_max_bytes: int = 10 * 1024 * 1024
    """Size at which the server log is rotated."""


@dataclass(frozen=True)
class Config:
    """Everything ptui reads from config files, with defaults filled in."""

    default_agent: str = "claude"
    """Agent used when a new session names none."""
    git: GitConfig = field(default_factory=GitConfig)
    terminal: TerminalConfig = field(default_factory=TerminalConfig)
    ui: UiConfig = field(default_factory=UiConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    agents: Mapping[str, AgentProfile] = field(default_factory=dict)
    scripts: Mapping[str, str] = field(default_factory=dict)
    """Script name -> shell command, run in a session's worktree."""
    sources: tuple[Path, ...] = ()
    """The files that were read, global first."""
    repo_digest: str = ""
    """sha256 of the repository's `.ptui.toml` as read ("" if none): what trust is given to."""
    ignored: tuple[str, ...] = ()
    """Dotted keys of an untrusted repository file that were not applied (sorted)."""

    def agent(self, name: str) -> AgentProfile:
        """The profile called `name`; unknown names raise a ConfigError listing known ones."""
        try:
            return self.agents[name]
        except KeyError:
            known = ", ".join(sorted(self.agents))
            raise ConfigError(f"unknown agent {name!r}; known agents: {known}") from None
