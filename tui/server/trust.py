"""Trust for repository scripts: which exact `.ptui.toml` contents the user approved.

A repository's `.ptui.toml` can define scripts (and agent commands) that ptui
would run. They run only once the user has trusted that exact file: its sha256
(`Config.repo_digest`) is stored in `<data dir>/trusted.json` by repository. The
file is always read from a commit of the base branch through pygit2 — never from
a worktree an agent can write to.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pygit2

from tui import paths
from tui.config import Config, load_config
from tui.errors import PtuiError
from tui.git.model import GitError
from tui.git.repo import open_repo, resolve_base, workdir_of

TRUST_FILE = "trusted.json"


class TrustError(PtuiError):
    """A repository script was asked to run without the user's trust."""


def read_repo_config(repo_path: Path, base: str | None) -> tuple[Path, str, str | None]:
    """(repository workdir, base name, `.ptui.toml` text at the base's tip or None)."""
    repo = open_repo(repo_path)
    base_name, commit = resolve_base(repo, base)
    try:
        entry = commit.tree[paths.REPO_CONFIG_NAME]
    except KeyError:
        return workdir_of(repo), base_name, None
    blob = repo[entry.id]
    if not isinstance(blob, pygit2.Blob):
        raise GitError(f"{paths.REPO_CONFIG_NAME} on {base_name} is not a file")
    try:
        text = blob.data.decode("utf-8")
    except UnicodeDecodeError:
        raise GitError(f"{paths.REPO_CONFIG_NAME} on {base_name}:1: not UTF-8 text") from None
    return workdir_of(repo), base_name, text


def load_trusted_config(repo_path: Path, base: str | None) -> Config:
    """The config for sessions of `repo_path` on `base`: global file + the base's `.ptui.toml`."""
    workdir, _, text = read_repo_config(repo_path, base)
    return load_config(workdir, repo_text=text if text is not None else "")


class TrustStore:
    """The digests the user trusted, per repository (a small JSON file)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.data_dir() / TRUST_FILE

    def _load(self) -> dict[str, list[str]]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise PtuiError(f"{self.path}:1: cannot read trusted digests: {exc}") from None
        if not isinstance(data, dict):
            return {}
        return {str(k): [str(d) for d in v] for k, v in data.items() if isinstance(v, list)}

    def is_trusted(self, repo: Path, digest: str) -> bool:
        """Whether `digest` (of `repo`'s `.ptui.toml`) was trusted; "" (no file) always is."""
        return not digest or digest in self._load().get(str(repo), [])

    def trust(self, repo: Path, digest: str) -> None:
        """Remember `digest` as trusted for `repo` (atomic write)."""
        data = self._load()
        digests = data.setdefault(str(repo), [])
        if digest not in digests:
            digests.append(digest)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        try:
            os.replace(tmp, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def check_script(config: Config, repo: Path, name: str, store: TrustStore) -> str:
    """The command of script `name`, refusing an untrusted repository script."""
    if name not in config.scripts:
        known = ", ".join(sorted(config.scripts)) or "none defined"
        raise PtuiError(f"no script {name!r} (scripts: {known})")
    if name in config.repo_scripts and not store.is_trusted(repo, config.repo_digest):
        raise TrustError(
            f"script {name!r} comes from {repo / paths.REPO_CONFIG_NAME}, which you have not "
            f"trusted; review it and run `ptui trust` in {repo}"
        )
    return config.scripts[name]
