"""Creating a session: branch `<prefix><name>` from a base, a worktree for it, and the
ignored files listed in `.worktreeinclude` copied in.

Creation is all or nothing: if any step fails, the branch, the worktree files,
git's admin dir (`.git/worktrees/ptui-<name>`) and any parent folders made for it
are removed again, and the error is reported as one GitError line.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
from pathlib import Path

import pygit2
from pygit2.enums import FileStatus

from tui.git.model import GitError, SessionRef
from tui.git.names import slugify_task, validate_branch_name, validate_name
from tui.git.repo import common_dir, open_repo, resolve_base, workdir_of

ADMIN_PREFIX = "ptui-"
"""pygit2 worktree admin names are `ptui-<session name>` (archive/prune rely on it)."""

WORKTREEINCLUDE = ".worktreeinclude"
_MAX_SUFFIX = 999
_FALLBACK_NAME = "session"


def admin_name(name: str) -> str:
    """The worktree's admin name in `.git/worktrees/` for session `name`."""
    return ADMIN_PREFIX + name


def default_worktrees_dir(repo_workdir: Path) -> Path:
    """`<parent>/<repo>.ptui-worktrees`: next to the repository, outside its tree."""
    return repo_workdir.parent / f"{repo_workdir.name}.ptui-worktrees"


def _name_taken(repo: pygit2.Repository, name: str, prefix: str, worktrees_dir: Path) -> str | None:
    """Why `name` cannot be used (a one-line reason), or None if it is free."""
    branch = prefix + name
    if repo.lookup_branch(branch) is not None:
        return f"branch {branch!r} already exists"
    path = worktrees_dir / name
    if os.path.lexists(path):
        return f"{path} already exists"
    if (common_dir(repo) / "worktrees" / admin_name(name)).exists():
        return f"worktree {admin_name(name)!r} is already registered in {common_dir(repo)}"
    return None


def _pick_name(
    repo: pygit2.Repository, task: str, name: str | None, prefix: str, worktrees_dir: Path
) -> str:
    """The session name: the given one (must be free) or the task's slug plus `-2`, `-3`..."""
    if name is not None:
        validate_name(name)
        validate_branch_name(prefix + name)
        reason = _name_taken(repo, name, prefix, worktrees_dir)
        if reason is not None:
            raise GitError(f"session {name!r}: {reason}")
        return name
    try:
        stem = slugify_task(task)
    except GitError:
        # Task text with nothing ASCII in it (e.g. CJK) is still a valid task.
        stem = _FALLBACK_NAME
    validate_branch_name(prefix + stem)
    for number in range(1, _MAX_SUFFIX + 1):
        candidate = stem if number == 1 else f"{stem}-{number}"
        if _name_taken(repo, candidate, prefix, worktrees_dir) is None:
            return validate_name(candidate)
    raise GitError(f"session name {stem!r}: all {_MAX_SUFFIX} numbered variants are taken")


def _make_parents(path: Path, created: list[Path]) -> None:
    """Create the missing ancestors of `path`, recording each in `created` (outermost first)."""
    missing: list[Path] = []
    parent = path.parent
    while not os.path.lexists(parent):
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        directory.mkdir()
        created.append(directory)


def _add_worktree(repo: pygit2.Repository, admin: str, path: Path, branch: pygit2.Branch) -> None:
    """Register the worktree and check the branch out into `path` (a separate step for tests)."""
    repo.add_worktree(admin, str(path), branch)


def plan_session(
    repo_path: Path,
    task: str,
    *,
    base: str | None = None,
    name: str | None = None,
    prefix: str = "ptui/",
    worktrees_dir: Path | None = None,
) -> SessionRef:
    """Where a new session will live; checks everything and changes nothing.

    The name comes from `name` or from the task text (collisions get `-2`, `-3`);
    the branch `<prefix><name>` starts at `base` (default: the current branch); the
    worktree goes to `worktrees_dir/<name>` (default: next to the repository).
    """
    repo = open_repo(Path(repo_path))
    workdir = workdir_of(repo)
    base_name, base_commit = resolve_base(repo, base)
    if prefix:
        try:
            validate_branch_name(prefix + "x")
        except GitError as exc:
            raise GitError(
                f"branch prefix {prefix[:40]!r} gives a bad branch name: {exc}"
            ) from None
    root = (worktrees_dir or default_worktrees_dir(workdir)).expanduser().absolute()
    git_dir = common_dir(repo)
    if root == git_dir or git_dir in root.parents:
        raise GitError(f"worktrees dir {root} is inside the git directory {git_dir}")
    session_name = _pick_name(repo, task, name, prefix, root)
    return SessionRef(
        repo=workdir,
        name=session_name,
        branch=prefix + session_name,
        base=base_name,
        base_commit=str(base_commit.id),
        worktree=root / session_name,
    )


def make_branch(ref: SessionRef, description: str = "") -> None:
    """Create the session branch at its base commit, with its description (idempotent)."""
    repo = open_repo(ref.repo)
    branch = repo.lookup_branch(ref.branch)
    if branch is None:
        try:
            repo.create_branch(ref.branch, repo[ref.base_commit].peel(pygit2.Commit))
        except (pygit2.GitError, KeyError, ValueError) as exc:
            raise GitError(
                f"session {ref.name!r}: cannot create branch {ref.branch}: {exc}"
            ) from None
    elif str(branch.target) != ref.base_commit:
        raise GitError(f"session {ref.name!r}: branch {ref.branch} already exists elsewhere")
    if description:
        repo.config[f"branch.{ref.branch}.description"] = description


def make_worktree(ref: SessionRef) -> None:
    """Check the branch out into the session's worktree (idempotent).

    A worktree already registered and checked out here is kept; a half-made one
    (an interrupted earlier call: only files from the checkout itself) is cleared
    and made again. `.worktreeinclude` files are copied in either way; existing
    files are never overwritten.
    """
    repo = open_repo(ref.repo)
    path = ref.worktree
    admin = admin_name(ref.name)
    admin_dir = common_dir(repo) / "worktrees" / admin
    if not (worktree_exists(ref) and admin_dir.is_dir()):
        _rollback(repo, None, ref.branch, path, admin_dir)
        branch = repo.lookup_branch(ref.branch)
        if branch is None:
            raise GitError(f"session {ref.name!r}: branch {ref.branch} is gone")
        created: list[Path] = []
        try:
            _make_parents(path, created)
            _add_worktree(repo, admin, path, branch)
        except (pygit2.GitError, OSError, ValueError) as exc:
            _rollback(repo, None, ref.branch, path, admin_dir)
            for directory in reversed(created):
                _rmdir_if_empty(directory)
            raise GitError(
                f"session {ref.name!r}: cannot create worktree at {path}: {exc}"
            ) from None
    try:
        copy_worktreeinclude(workdir_of(repo), path)
    except OSError as exc:
        raise GitError(f"session {ref.name!r}: cannot copy .worktreeinclude files: {exc}") from None


def undo_new(ref: SessionRef) -> None:
    """Take back a session whose creation never finished: worktree, admin dir, branch.

    Only what `new` made: the checkout is removed only if it is ours, the branch
    only while it still points at the base commit (no work on it yet).
    """
    repo = open_repo(ref.repo)
    admin_dir = common_dir(repo) / "worktrees" / admin_name(ref.name)
    _rollback(repo, None, ref.branch, ref.worktree, admin_dir)
    branch = repo.lookup_branch(ref.branch)
    if branch is not None and str(branch.target) == ref.base_commit:
        with contextlib.suppress(pygit2.GitError):
            branch.delete()
    _rmdir_if_empty(ref.worktree.parent)


_DESCRIPTION_TAG = "ptui-session: "


def session_description(task: str, fields: dict[str, str]) -> str:
    """A branch description: the task for people, then one line ptui can read back.

    `git branch --edit-description` shows the first part; `read_descriptions`
    parses the tagged line, so records can be rebuilt from git alone.
    """
    head = task.strip().splitlines()[0][:200] if task.strip() else "ptui session"
    return f"{head}\n\n{_DESCRIPTION_TAG}{json.dumps(fields, sort_keys=True)}\n"


def read_descriptions(repo_path: Path) -> dict[str, dict[str, str]]:
    """Every branch whose description carries ptui's line: branch name -> its fields."""
    repo = open_repo(Path(repo_path))
    found: dict[str, dict[str, str]] = {}
    for entry in repo.config:
        name = entry.name
        if not (name.startswith("branch.") and name.endswith(".description")):
            continue
        branch = name[len("branch.") : -len(".description")]
        for line in str(entry.value or "").splitlines():
            if not line.startswith(_DESCRIPTION_TAG):
                continue
            try:
                fields = json.loads(line[len(_DESCRIPTION_TAG) :])
            except ValueError:
                continue
            if isinstance(fields, dict):
                found[branch] = {str(k): str(v) for k, v in fields.items()}
    return found


def create_session(
    repo_path: Path,
    task: str,
    *,
    base: str | None = None,
    name: str | None = None,
    prefix: str = "ptui/",
    worktrees_dir: Path | None = None,
) -> SessionRef:
    """Create a session's branch and worktree and return where it lives.

    `plan_session`, `make_branch` and `make_worktree` in one go; on any failure
    everything made so far is removed and GitError is raised.
    """
    ref = plan_session(
        repo_path, task, base=base, name=name, prefix=prefix, worktrees_dir=worktrees_dir
    )
    try:
        make_branch(ref)
        make_worktree(ref)
    except BaseException:
        undo_new(ref)
        raise
    return ref


def _rmdir_if_empty(directory: Path) -> None:
    with contextlib.suppress(OSError):
        directory.rmdir()


def _is_our_checkout(path: Path, admin_dir: Path) -> bool:
    git_file = path / ".git"
    if path.is_symlink() or not git_file.is_file():
        return False
    try:
        pointer = git_file.read_text().strip()
    except OSError:
        return False
    if not pointer.startswith("gitdir:"):
        return False
    target = Path(pointer.removeprefix("gitdir:").strip())
    return (path / target).resolve() == admin_dir.resolve()


def _rollback(
    repo: pygit2.Repository,
    branch: pygit2.Branch | None,
    branch_name: str,
    path: Path | None,
    admin_dir: Path,
) -> None:
    """Undo a half-made session; only ever touches things this call created."""
    # `path` and `admin_dir` did not exist before this call (checked by _name_taken).
    # The checkout is removed only if its `.git` file points at our admin dir, so a
    # directory some other process made there in the meantime is never deleted.
    if path is not None:
        if _is_our_checkout(path, admin_dir):
            shutil.rmtree(path, ignore_errors=True)
        else:
            _rmdir_if_empty(path)
        if admin_dir.is_dir():
            shutil.rmtree(admin_dir, ignore_errors=True)
    if branch is not None:
        try:
            current = repo.lookup_branch(branch_name)
            if current is not None and current.target == branch.target:
                current.delete()
        except pygit2.GitError:
            pass


def worktree_exists(ref: SessionRef) -> bool:
    """True if the session's worktree directory is there and still a checkout of this repo."""
    git_file = ref.worktree / ".git"
    if not git_file.is_file():
        return False
    try:
        found = pygit2.Repository(str(ref.worktree), pygit2.enums.RepositoryOpenFlag.NO_SEARCH)
    except (pygit2.GitError, OSError):
        return False
    try:
        main = open_repo(ref.repo)
    except GitError:
        return False
    return common_dir(found) == common_dir(main)


# --- .worktreeinclude -------------------------------------------------------------


class _Rule:
    """One gitignore-syntax pattern compiled to a regex over slash-separated paths."""

    def __init__(
        self, negate: bool, dir_only: bool, regex: re.Pattern[str], literal_prefix: str
    ) -> None:
        self.negate = negate
        self.dir_only = dir_only
        self.regex = regex
        # Literal leading part of an anchored pattern ("" when it can match anywhere),
        # used to skip walking ignored dirs that cannot hold a match.
        self.literal_prefix = literal_prefix


def _glob_to_regex(glob: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(glob):
        char = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\" and i + 1 < len(glob):
            i += 1
            out.append(re.escape(glob[i]))
        elif char == "[":
            end = glob.find("]", i + 2)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = glob[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def parse_include_rules(text: str) -> list[_Rule]:
    """Compile `.worktreeinclude` text (gitignore syntax) into rules."""
    rules: list[_Rule] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if raw.endswith("\\ "):
            line += " "
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if negate or line.startswith(("\\!", "\\#")):
            line = line[1:]  # drop the "!" or the escaping backslash
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        anchored = "/" in line
        line = line.lstrip("/")
        body = _glob_to_regex(line)
        regex = re.compile(("" if anchored else "(?:.*/)?") + body + r"\Z", re.DOTALL)
        prefix = re.split(r"[*?\[\\]", line, maxsplit=1)[0] if anchored else ""
        rules.append(_Rule(negate, dir_only, regex, prefix))
    return rules


def _matches(rules: list[_Rule], rel: str, is_dir: bool) -> bool | None:
    """Last matching rule decides: True include, False excluded by `!`, None no match."""
    verdict: bool | None = None
    for rule in rules:
        if rule.dir_only and not is_dir:
            continue
        if rule.regex.match(rel):
            verdict = not rule.negate
    return verdict


def _included(rules: list[_Rule], rel: str) -> bool:
    """gitignore semantics: a file is in if it or any parent directory is matched."""
    parts = rel.split("/")
    for depth in range(1, len(parts)):
        if _matches(rules, "/".join(parts[:depth]), is_dir=True):
            return True
    return bool(_matches(rules, rel, is_dir=False))


def _may_contain_matches(rules: list[_Rule], rel_dir: str) -> bool:
    for rule in rules:
        if rule.negate:
            continue
        prefix = rule.literal_prefix
        if not prefix or prefix.startswith(rel_dir + "/") or (rel_dir + "/").startswith(prefix):
            return True
    return False


def _copy_one(src: Path, dst: Path, worktree_real: Path) -> bool:
    """Copy a regular file or symlink with its mode; never over an existing path."""
    if os.path.lexists(dst):
        return False
    mode = os.lstat(src).st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        return False  # FIFOs, sockets, devices: copying could block or make no sense
    dst.parent.mkdir(parents=True, exist_ok=True)
    # A symlinked directory checked out from the base must not lead the copy elsewhere.
    real_parent = dst.parent.resolve()
    if real_parent != worktree_real and worktree_real not in real_parent.parents:
        return False
    shutil.copy2(src, dst, follow_symlinks=False)
    return True


def copy_worktreeinclude(repo_workdir: Path, worktree: Path) -> list[str]:
    """Copy ignored files matched by the main checkout's `.worktreeinclude` into `worktree`.

    Only files git ignores are candidates (tracked files come from the checkout
    itself); modes are kept, symlinks copied as symlinks, existing files left alone.
    Returns the copied paths, relative and slash-separated, sorted.
    """
    include_file = repo_workdir / WORKTREEINCLUDE
    if not include_file.is_file():
        return []
    rules = parse_include_rules(include_file.read_text(errors="replace"))
    if not rules:
        return []
    repo = pygit2.Repository(str(repo_workdir), pygit2.enums.RepositoryOpenFlag.NO_SEARCH)
    # pygit2's status never rewrites the index; ignored dirs come back whole as "dir/";
    # "all" recurses untracked dirs so ignored files inside them are listed too.
    ignored = sorted(
        path
        for path, flags in repo.status(untracked_files="all", ignored=True).items()
        if flags & FileStatus.IGNORED
    )
    worktree_real = worktree.resolve()
    copied: list[str] = []

    def visit(rel: str, take_all: bool) -> None:
        src = repo_workdir / rel
        if _is_real_dir(src):
            inside = take_all or bool(_matches(rules, rel, is_dir=True))
            if not inside and not _may_contain_matches(rules, rel):
                return
            for entry in sorted(os.listdir(src)):
                if entry == ".git":
                    continue
                visit(f"{rel}/{entry}", inside)
        elif (take_all or _included(rules, rel)) and _copy_one(src, worktree / rel, worktree_real):
            copied.append(rel)

    for entry in ignored:
        visit(entry.rstrip("/"), take_all=False)
    return sorted(copied)


def _is_real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()
