"""What ptui left in one repository, read from git alone: worktrees, branches, archives.

`ptui doctor` holds this against the session records. git is the ground truth:
the session worktrees (admin names `ptui-<name>`), the branches whose description
carries ptui's line (task, agent, base, created), the archive refs
`refs/ptui/archive/<name>` and the tar of ignored files each archive's manifest
names are enough to rebuild every record.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pygit2

from tui.git.model import GitError, SessionRef
from tui.git.repo import common_dir, open_repo, workdir_of
from tui.git.worktree import ADMIN_PREFIX, read_descriptions

__all__ = ["ArchiveRef", "RepoInventory", "Worktree", "repo_inventory"]

_ARCHIVE_PREFIX = "refs/ptui/archive/"


@dataclass
class Worktree:
    """A worktree registered under ptui's admin prefix."""

    name: str
    path: Path
    exists: bool
    branch: str
    """The branch checked out there ("" when detached or unreadable)."""


@dataclass
class ArchiveRef:
    """One archive: its session name, the branch it was of, the tar it names."""

    name: str
    branch: str
    tar: str


@dataclass
class RepoInventory:
    """Everything of ptui's in one repository."""

    repo: Path
    git_dir: Path = Path()
    """The repository's common git directory."""
    worktrees: dict[str, Worktree] = field(default_factory=dict)
    described: dict[str, dict[str, str]] = field(default_factory=dict)
    """Branch -> the fields ptui wrote into its description."""
    archives: dict[str, ArchiveRef] = field(default_factory=dict)

    def session_ref(self, name: str, branch: str, fields: dict[str, str]) -> SessionRef:
        """A SessionRef for an unrecorded session, from what git knows of it."""
        repo = open_repo(self.repo)
        base = fields.get("base") or ""
        base_commit = fields.get("base_commit") or ""
        if not base or not base_commit:
            base = base or (repo.head.shorthand if not repo.head_is_unborn else "main")
            try:
                tip = repo.lookup_branch(branch).peel(pygit2.Commit)
                head = repo.head.peel(pygit2.Commit)
                found = repo.merge_base(tip.id, head.id)
                base_commit = base_commit or str(found or tip.id)
            except (AttributeError, pygit2.GitError, KeyError):
                base_commit = base_commit or ""
        worktree = self.worktrees.get(name)
        path = worktree.path if worktree else Path(fields.get("worktree") or "")
        if not path.is_absolute():
            path = self.repo.parent / f"{self.repo.name}.ptui-worktrees" / name
        return SessionRef(
            repo=self.repo,
            name=name,
            branch=branch,
            base=base,
            base_commit=base_commit,
            worktree=path,
        )


def repo_inventory(repo_path: Path) -> RepoInventory:
    """Read ptui's worktrees, described branches and archives of one repository."""
    repo = open_repo(Path(repo_path))
    inventory = RepoInventory(repo=workdir_of(repo), git_dir=common_dir(repo))
    admin_root = inventory.git_dir / "worktrees"
    for admin in repo.list_worktrees():
        if not admin.startswith(ADMIN_PREFIX):
            continue
        try:
            path = Path(repo.lookup_worktree(admin).path)
        except pygit2.GitError:
            continue
        branch = ""
        head = admin_root / admin / "HEAD"
        try:
            text = head.read_text().strip()
        except OSError:
            text = ""
        if text.startswith("ref: refs/heads/"):
            branch = text.removeprefix("ref: refs/heads/")
        name = admin.removeprefix(ADMIN_PREFIX)
        inventory.worktrees[name] = Worktree(name, path, os.path.lexists(path), branch)
    inventory.described = read_descriptions(inventory.repo)
    from tui.git.archive_snapshot import archive_commit, read_manifest  # same package

    for ref_name in repo.references:
        if not ref_name.startswith(_ARCHIVE_PREFIX):
            continue
        name = ref_name.removeprefix(_ARCHIVE_PREFIX)
        probe = SessionRef(inventory.repo, name, "", "", "", Path())
        try:
            manifest = read_manifest(repo, probe, archive_commit(repo, probe))
        except GitError:
            inventory.archives[name] = ArchiveRef(name, "", "")
            continue
        inventory.archives[name] = ArchiveRef(
            name, str(manifest.get("branch") or ""), str(manifest.get("tar") or "")
        )
    return inventory
