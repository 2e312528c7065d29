"""Session and branch names: derive them from task text and validate them.

The session-name rule itself (`[a-z0-9][a-z0-9._-]{0,48}`, without `..`, not
ending in `.` or `.lock`) lives in `tui.naming`, so the state store can check
names without pygit2; `validate_name` turns its verdict into a GitError.
"""

from __future__ import annotations

import re
import unicodedata

import pygit2

from tui.git.model import GitError
from tui.naming import NAME_MAX as NAME_MAX  # re-exported: callers import it from here
from tui.naming import name_problem
from tui.naming import show as _show

BRANCH_MAX = 200
"""Longest branch name accepted; git allows more, but nothing sensible needs it."""

# Slugs leave room for a collision suffix such as "-12" within NAME_MAX.
_SLUG_MAX = 40


def validate_name(name: str) -> str:
    """Return `name` if it is a valid session name, else raise GitError naming the problem."""
    problem = name_problem(name)
    if problem is not None:
        raise GitError(problem)
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
