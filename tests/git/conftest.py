"""Fixtures for the git core's tests: real repositories built with the git CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


def git(cwd: Path, *args: str) -> str:
    """Run the git CLI in `cwd` and return its stdout (raises on failure)."""
    result = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return result.stdout


def commit_files(repo: Path, files: dict[str, str], message: str = "change") -> str:
    """Write `files` (relative path -> text) in `repo`, commit them all, return the commit id."""
    for rel, text in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository on branch `main` with one commit (README.md, src/app.py, .gitignore)."""
    path = tmp_path / "project"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    commit_files(
        path,
        {
            "README.md": "# project\n",
            "src/app.py": "def main():\n    return 1\n",
            ".gitignore": ".env\n*.log\nbuild/\n",
        },
        "initial",
    )
    return path
