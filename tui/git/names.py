"""Session and branch names: derive them from task text and validate them.

A session name becomes a directory name, part of a branch name and part of a
worktree admin name (`ptui-<name>`), so it is held to a narrow, portable alphabet:
`[a-z0-9][a-z0-9._-]{0,48}`, without `..` and not ending in `.` or `.lock`.
"""

from __future__ import annotations

import re
import unicodedata

import pygit2

from tui.git.model import GitError

NAME_MAX = 49
"""Longest session name accepted (1 leading character + 48)."""

BRANCH_MAX = 200
"""Longest branch name accepted; git allows more, but nothing sensible needs it."""

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,48}")
# Slugs leave room for a collision suffix such as "-12" within NAME_MAX.
_SLUG_MAX = 40


def _show(text: str, limit: int = 40) -> str:
    """Quote user text for an error message, shortened and with control chars escaped."""
    shown = text if len(text) <= limit else text[:limit] + "..."
    return repr(shown)


def validate_name(name: str) -> str:
    """Return `name` if it is a valid session name, else raise GitError naming the problem."""
    label = f"session name {_show(name)}"
    if not name:
        raise GitError("session name is empty")
    if len(name) > NAME_MAX:
        raise GitError(f"{label} is too long ({len(name)} characters, at most {NAME_MAX})")
    if name.startswith("-"):
        raise GitError(f"{label} must not start with '-'")
    if ".." in name:
        raise GitError(f"{label} must not contain '..'")
    for char in name:
        if char.isspace():
            raise GitError(f"{label} must not contain spaces")
        if not char.isascii():
            raise GitError(f"{label} must be ASCII (found {char!r})")
    if not _NAME_RE.fullmatch(name):
        raise GitError(
            f"{label} may only use a-z, 0-9, '.', '_' and '-' and must start with a letter or digit"
        )
    if name.endswith(".") or name.endswith(".lock"):
        raise GitError(f"{label} must not end with '.' or '.lock'")
    return name


def slugify_task(task: str) -> str:
    """Turn task text into a session name ("Fix the login bug!" -> "fix-the-login-bug").

    Accents are folded to ASCII, everything else outside `[a-z0-9]` becomes `-`, and
    the result is cut at a word boundary to leave room for a `-N` collision suffix.
    Raises GitError when nothing usable remains (for instance a task in CJK only).
    """
    folded = unicodedata.normalize("NFKD", task).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    if len(slug) > _SLUG_MAX:
        cut = slug[:_SLUG_MAX]
        # Prefer ending on a whole word when one ends reasonably late.
        boundary = cut.rfind("-")
        slug = cut[:boundary] if boundary >= _SLUG_MAX // 2 else cut
        slug = slug.strip("-")
    if not slug:
        raise GitError(f"task {_show(task)} gives no usable session name; pass a name")
    return validate_name(slug)


def validate_branch_name(branch: str) -> str:
    """Return `branch` if it is a valid, safe local branch name, else raise GitError.

    git's own rules (via libgit2) plus ours: ASCII printable only, no leading `-`
    (it would read as an option to any git command), not `HEAD`, bounded length.
    """
    label = f"branch name {_show(branch)}"
    if not branch:
        raise GitError("branch name is empty")
    if len(branch) > BRANCH_MAX:
        raise GitError(f"{label} is too long ({len(branch)} characters, at most {BRANCH_MAX})")
    if branch.startswith("-"):
        raise GitError(f"{label} must not start with '-'")
    if ".." in branch:
        raise GitError(f"{label} must not contain '..'")
    for char in branch:
        if char.isspace():
            raise GitError(f"{label} must not contain spaces")
        if not char.isascii() or not char.isprintable():
            raise GitError(f"{label} must be printable ASCII (found {char!r})")
    if branch == "HEAD" or not pygit2.reference_is_valid_name(f"refs/heads/{branch}"):
        raise GitError(f"{label} is not a valid git branch name")
    return branch
