"""Trust in a repository's `.ptui.toml`: which exact contents the user approved.

A repository's `.ptui.toml` can run code (scripts, setup, agent commands), move
files (`worktrees_dir`), name refs, open ports and cost CPU (status patterns).
None of that applies until the user has trusted that exact file: its sha256
(`Config.repo_digest`) is stored in `<data dir>/trusted.json` by repository, and
until then `load_config` keeps only `TRUST_FREE_KEYS` of it. The file is always
read from a commit of the base branch through pygit2 — never from a worktree an
agent can write to, and never from the main checkout's uncommitted copy, which
`local_changes` compares so the user is told it does not count.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pygit2

from tui import paths
from tui.config import Config, ConfigError, load_config, repo_digest, settings_for
from tui.errors import PtuiError
from tui.git.model import GitError
from tui.git.repo import open_repo, resolve_base, workdir_of
from tui.protocol import messages

TRUST_FILE = "trusted.json"
_NOTICE_KEYS = 20  # ignored keys named in one notice; a longer list would hide the advice


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


@dataclass(frozen=True)
class RepoConfig:
    """The config sessions of one repository get, and where it came from."""

    config: Config
    workdir: Path
    base: str
    """The base the file was read from (`git.default_base` applied)."""
    text: str | None
    """The committed `.ptui.toml` on `base`, or None."""
    trusted: bool

    def notice(self) -> str | None:
        """One line telling the user what an untrusted file could not do, or None."""
        if self.trusted or not self.config.ignored:
            return None
        shown, rest = self.config.ignored[:_NOTICE_KEYS], self.config.ignored[_NOTICE_KEYS:]
        keys = ", ".join(shown)
        more = f" and {len(rest)} more (`ptui trust` lists them)" if rest else ""
        return (
            f"{self.workdir / paths.REPO_CONFIG_NAME} on {self.base} is not trusted, so ptui "
            f"ignored {keys}{more}; review it and run `ptui trust` in {self.workdir}"
        )


def load_repo_config(repo_path: Path, base: str | None, store: TrustStore) -> RepoConfig:
    """The config for sessions of `repo_path` on `base`: global file + the base's
    `.ptui.toml`, the latter only as far as trust allows. Without `base`,
    `git.default_base` (of the file read from the current branch) picks it."""
    workdir, base_name, text = read_repo_config(repo_path, base)
    trusted = text is None or store.is_trusted(workdir, repo_digest(text))
    config = load_config(workdir, repo_text=text or "", trusted=trusted)
    if base is None and config.git.default_base:
        return load_repo_config(repo_path, config.git.default_base, store)
    return RepoConfig(config, workdir, base_name, text, trusted)


def repo_settings(repo: Path | None, base: str | None, store: TrustStore) -> messages.Settings:
    """What a new session in `repo` would get (`repo.settings`, for the new-session
    form and the scripts picker): the user's own file plus what the server applies of
    the repository's committed `.ptui.toml`, trust included. Outside a git repository,
    or when the repository's file is refused (the server says why when a session is
    made), the user's file alone."""
    if repo is not None:
        try:
            loaded = load_repo_config(repo, base, store)
        except (GitError, ConfigError):
            pass
        else:
            return settings_for(loaded.config, str(loaded.workdir))
    return settings_for(load_config(None), "")


def local_changes(loaded: RepoConfig, limit: int = 40) -> str | None:
    """How the main checkout's `.ptui.toml` differs from the committed one, or None.

    Only the committed file on the base counts (an uncommitted one would be half
    of a config nobody reviewed); this says so, with the difference.
    """
    path = loaded.workdir / paths.REPO_CONFIG_NAME
    try:
        local: str | None = path.read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        local = None
    except OSError:
        return None
    if local is None or local == loaded.text:
        return None
    committed = loaded.text or ""
    diff = list(
        difflib.unified_diff(
            committed.splitlines(),
            local.splitlines(),
            f"{paths.REPO_CONFIG_NAME} on {loaded.base}",
            f"{paths.REPO_CONFIG_NAME} in {loaded.workdir}",
            lineterm="",
        )
    )
    if len(diff) > limit:
        diff = [*diff[:limit], f"... ({len(diff) - limit} more lines)"]
    state = "is not committed" if loaded.text is None else "has changes not committed"
    return (
        f"{path} {state} on {loaded.base}; ptui reads only the committed file on the "
        "base branch, so these changes do not apply:\n" + "\n".join(diff)
    )


def describe(repo_path: Path, base: str | None, store: TrustStore) -> messages.TrustShown:
    """What `trust.show` answers: the committed file, its digest, whether it is
    trusted, its scripts, the keys ignored until it is, and any uncommitted copy."""
    loaded = load_repo_config(repo_path, base, store)
    scripts: dict[str, str] = {}
    ignored: list[str] = []
    problem: str | None = None
    if loaded.text is not None:
        ignored = list(load_config(loaded.workdir, repo_text=loaded.text, trusted=False).ignored)
        # The file's own scripts (it was checked just now: a table of strings).
        scripts = dict(sorted(tomllib.loads(loaded.text).get("scripts", {}).items()))
        try:
            # What trusting would enable: the file read as trusted. A problem that only
            # shows then (a worktrees_dir others can write to) is shown before trusting.
            load_config(loaded.workdir, repo_text=loaded.text, trusted=True)
        except ConfigError as exc:
            problem = str(exc)
    return {
        "repo": str(loaded.workdir),
        "base": loaded.base,
        "text": loaded.text or "",
        "digest": loaded.config.repo_digest,
        "trusted": loaded.trusted,
        "local_changes": local_changes(loaded),
        "scripts": scripts,
        "ignored": ignored,
        "problem": problem,
    }


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


def untrusted(config: Config, repo: Path, what: str, key: str) -> TrustError | None:
    """The refusal for `what` when its `key` (dotted, or a table prefix) was ignored."""
    if not any(k == key or k.startswith(key + ".") for k in config.ignored):
        return None
    return TrustError(
        f"{what} comes from {repo / paths.REPO_CONFIG_NAME}, which you have not "
        f"trusted; review it and run `ptui trust` in {repo}"
    )


def check_script(config: Config, repo: Path, name: str) -> str:
    """The command of script `name`, refusing an untrusted repository script."""
    if name not in config.scripts:
        if refusal := untrusted(config, repo, f"script {name!r}", f"scripts.{name}"):
            raise refusal
        known = ", ".join(sorted(config.scripts)) or "none defined"
        raise PtuiError(f"no script {name!r} (scripts: {known})")
    return config.scripts[name]
