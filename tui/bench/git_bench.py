"""`ptui bench git`: ptui's git core beside the git CLI, measured in the same run.

Builds a scratch repository in a temporary directory, then times (median of
`repeat` runs, interleaved so drift hits both sides alike):

- create: `create_session` vs `git worktree add -b <branch> <path> main`;
- diff_stat: `session_diff(...).stat_text()` of a `files`-file change vs
  `git diff --stat <merge-base>` in the session's worktree (both compare the
  merge-base tree with the working tree, renames detected).

The target is ptui within 1.5x of the git CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tui.errors import PtuiError, UsageError
from tui.git.diff import session_diff
from tui.git.worktree import create_session

TARGET_RATIO = 1.5
_UNCHANGED_PER_CHANGED = 2  # the scratch repo holds 3x `files` files
_DIRS = 30


def _progress(message: str) -> None:
    print(f"ptui bench git: {message}", file=sys.stderr, flush=True)


def _git_env() -> dict[str, str]:
    """The git CLI without the user's config or hooks, with a fixed identity."""
    env = dict(os.environ)
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="ptui bench",
        GIT_AUTHOR_EMAIL="bench@ptui.invalid",
        GIT_COMMITTER_NAME="ptui bench",
        GIT_COMMITTER_EMAIL="bench@ptui.invalid",
    )
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(var, None)
    return env


def _git(cwd: Path, *args: str) -> str:
    """Run the git CLI (argument list, never a shell string) and return stdout."""
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=_git_env(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["no message"])[0]
        raise PtuiError(f"bench: git {args[0]} failed in {cwd}: {first}")
    return result.stdout


def _write_file(path: Path, index: int, changed: bool) -> None:
    body = [f"line {j} of file {index}\n" for j in range(40)]
    if changed:
        body[5] = f"LINE 5 of file {index}, changed\n"
        body.append("one more line\n")
    path.write_text("".join(body))


def _build_repo(root: Path, files: int) -> Path:
    repo = root / "project"
    repo.mkdir()
    total = files * (1 + _UNCHANGED_PER_CHANGED)
    _progress(f"building a scratch repository with {total} files in {root}")
    _git(repo, "init", "-q", "-b", "main")
    for i in range(total):
        directory = repo / f"pkg{i % _DIRS}"
        directory.mkdir(exist_ok=True)
        _write_file(directory / f"f{i}.py", i, changed=False)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "scratch")
    return repo


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000.0


def _time(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _measure_create(repo: Path, trees: Path, repeat: int) -> tuple[float, float]:
    _progress(f"timing session create vs git worktree add -b ({repeat} runs each)")
    ptui: list[float] = []
    git: list[float] = []
    for i in range(repeat):
        ptui.append(
            _time(partial(create_session, repo, "bench", name=f"p{i}", worktrees_dir=trees))
        )
        # Build the argument list first so only git's own work is timed.
        args = ["worktree", "add", "-q", "-b", f"ptui/g{i}", str(trees / f"g{i}"), "main"]
        git.append(_time(partial(_git, repo, *args)))
    return _median_ms(ptui), _median_ms(git)


def _measure_diff_stat(repo: Path, trees: Path, files: int, repeat: int) -> tuple[float, float]:
    ref = create_session(repo, "diff bench", name="diff", worktrees_dir=trees)
    _progress(f"committing a {files}-file change in {ref.worktree}")
    for i in range(files):
        _write_file(ref.worktree / f"pkg{i % _DIRS}" / f"f{i}.py", i, changed=True)
    _git(ref.worktree, "commit", "-q", "-a", "-m", "change")
    merge_base = ref.base_commit

    ours = session_diff(ref).stat_text()
    theirs = _git(ref.worktree, "diff", "--stat", merge_base)
    if ours.splitlines()[-1:] != theirs.rstrip("\n").splitlines()[-1:]:
        _progress(f"warning: totals differ: ptui {ours.splitlines()[-1:]} git {theirs[-80:]!r}")

    _progress(f"timing diff stat vs git diff --stat ({repeat} runs each)")
    ptui: list[float] = []
    git: list[float] = []
    for _ in range(repeat):
        ptui.append(_time(lambda: session_diff(ref).stat_text()))
        git.append(_time(lambda: _git(ref.worktree, "diff", "--stat", merge_base)))
    return _median_ms(ptui), _median_ms(git)


def _figures(ptui_ms: float, git_ms: float) -> dict[str, float]:
    ratio = ptui_ms / git_ms if git_ms > 0 else float("inf")
    return {"ptui_ms": round(ptui_ms, 2), "git_ms": round(git_ms, 2), "ratio": round(ratio, 2)}


def _table(results: dict[str, dict[str, float]], files: int, repeat: int) -> str:
    rows = [
        f"ptui bench git: {files}-file change in a {files * 3}-file repo, median of {repeat}",
        f"{'measure':<11} {'ptui ms':>9} {'git ms':>9} {'ratio':>7}  target <= {TARGET_RATIO}x",
    ]
    labels = {"create": "create", "diff_stat": "diff stat"}
    for key, label in labels.items():
        row = results[key]
        verdict = "ok" if row["ratio"] <= TARGET_RATIO else "SLOWER"
        rows.append(
            f"{label:<11} {row['ptui_ms']:>9.1f} {row['git_ms']:>9.1f} "
            f"{row['ratio']:>6.2f}x  {verdict}"
        )
    rows.append("anchors: git worktree add -b; git diff --stat <merge-base> (in the worktree)")
    return "\n".join(rows)


def run(*, files: int = 1000, repeat: int = 7, as_json: bool = False) -> int:
    """Run the benchmark, print a table (or JSON with `as_json`), return the exit status."""
    if files < 1:
        raise UsageError("bench git: --files must be at least 1")
    if repeat < 1:
        raise UsageError("bench git: --repeat must be at least 1")
    if shutil.which("git") is None:
        raise PtuiError("bench git: the git CLI is not on PATH; it is the anchor to compare with")
    with tempfile.TemporaryDirectory(prefix="ptui-bench-git-") as scratch:
        root = Path(scratch)
        repo = _build_repo(root, files)
        trees = root / "trees"
        create = _figures(*_measure_create(repo, trees, repeat))
        diff_stat = _figures(*_measure_diff_stat(repo, trees, files, repeat))
        _progress("removing the scratch repository")
    results = {"create": create, "diff_stat": diff_stat}
    if as_json:
        print(json.dumps(results))
    else:
        print(_table(results, files, repeat))
    return 0
