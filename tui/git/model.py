"""Plain data shared by the git core's modules: what identifies a session's worktree."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tui.errors import PtuiError


class GitError(PtuiError):
    """A git operation was refused or failed; the message is one line naming the place."""


@dataclass(frozen=True)
class SessionRef:
    """Where a session lives in git: everything tui.git needs to find its work.

    `repo` is the main repository's working directory (not the worktree), `branch`
    the session branch's short name (e.g. `ptui/fix-login`), `base` the base as the
    user gave it (branch, tag or commit), `base_commit` the commit id the session
    branched from, `worktree` the session's checkout.
    """

    repo: Path
    name: str
    branch: str
    base: str
    base_commit: str
    worktree: Path
