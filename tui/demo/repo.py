"""The demo repository: a small but real project for `ptui demo` to work on.

`tinycalc` is a calculator package with a parser, a command line, unit tests, a
README and a CHANGELOG; its `.ptui.toml` has `setup`, `test` and `run` scripts
(`run` serves the worktree on the session's `PTUI_PORT`), and its
`.worktreeinclude` lists `.env`, an ignored file every session gets a copy of.

`ensure_demo_repo(parent)` makes it under `parent` or reuses the one there. A
marker inside its `.git` says ptui made it: a folder without that marker is
never reused, reset or written to, so the user's own repositories stay untouched.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tui import paths
from tui.errors import PtuiError

REPO_NAME = "tinycalc"
MARKER = "ptui-demo"
"""File inside `.git` that marks a repository made by `ptui demo`."""


@dataclass(frozen=True)
class DemoTask:
    """One of the sessions `ptui demo` starts."""

    name: str
    task: str


DEMO_TASKS = (
    DemoTask("power-operator", "add a power operator (**) to the parser"),
    DemoTask("readme-usage", "document the command line usage in the README"),
    DemoTask("parser-tests", "write tests for parser errors"),
)


def default_parent() -> Path:
    """Where the demo lives unless told otherwise: `<data dir>/demo`."""
    return paths.data_dir() / "demo"


def _python() -> str:
    # Scripts run through /bin/sh in a worktree: `python3` reads better in the
    # .ptui.toml a newcomer is shown, but only if it is there.
    return "python3" if shutil.which("python3") else sys.executable


FILES: dict[str, str] = {
    "README.md": """\
# tinycalc

A tiny calculator: `+ - * /` and parentheses on integers and decimals.

```sh
python3 -m calc "2 * (3 + 4)"
```

This repository was made by `ptui demo`: three demo agents are working on it,
each in its own worktree and branch. Nothing here is yours; delete it any time.
""",
    "CHANGELOG.md": "# Changelog\n\n## Unreleased\n\n",
    ".gitignore": ".env\n__pycache__/\n",
    ".worktreeinclude": "# Ignored files every new session gets a copy of.\n.env\n",
    "calc/__init__.py": '''\
"""tinycalc: evaluate arithmetic expressions."""

from calc.parser import ParseError, evaluate

__all__ = ["ParseError", "evaluate"]
''',
    "calc/__main__.py": '''\
"""Command line: `python3 -m calc EXPRESSION`."""

import sys

from calc.parser import ParseError, evaluate


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python3 -m calc EXPRESSION", file=sys.stderr)
        return 2
    try:
        print(evaluate(argv[0]))
    except ParseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
''',
    "calc/parser.py": '''\
"""A recursive-descent parser for + - * / and parentheses."""

import re

TOKEN = re.compile(r"\\s*(?:(\\d+(?:\\.\\d*)?)|(.))")


class ParseError(ValueError):
    """The expression is not valid."""


def tokenize(text: str) -> list[str]:
    tokens = []
    for number, op in TOKEN.findall(text.strip()):
        if op and op not in "+-*/()":
            raise ParseError(f"unexpected {op!r}")
        tokens.append(number or op)
    return tokens


def evaluate(text: str) -> float:
    tokens = tokenize(text)
    value, rest = _sum(tokens)
    if rest:
        raise ParseError(f"unexpected {rest[0]!r}")
    return value


def _sum(tokens: list[str]) -> tuple[float, list[str]]:
    value, tokens = _product(tokens)
    while tokens and tokens[0] in "+-":
        op, (right, tokens) = tokens[0], _product(tokens[1:])
        value = value + right if op == "+" else value - right
    return value, tokens


def _product(tokens: list[str]) -> tuple[float, list[str]]:
    value, tokens = _atom(tokens)
    while tokens and tokens[0] in "*/":
        op, (right, tokens) = tokens[0], _atom(tokens[1:])
        value = value * right if op == "*" else value / right
    return value, tokens


def _atom(tokens: list[str]) -> tuple[float, list[str]]:
    if not tokens:
        raise ParseError("unexpected end of expression")
    head, rest = tokens[0], tokens[1:]
    if head == "(":
        value, rest = _sum(rest)
        if not rest or rest[0] != ")":
            raise ParseError("missing )")
        return value, rest[1:]
    if head == "-":
        value, rest = _atom(rest)
        return -value, rest
    try:
        return float(head), rest
    except ValueError:
        raise ParseError(f"unexpected {head!r}") from None
''',
    "tests/__init__.py": "",
    "tests/test_parser.py": """\
import unittest

from calc.parser import ParseError, evaluate


class EvaluateTest(unittest.TestCase):
    def test_precedence(self) -> None:
        self.assertEqual(evaluate("2 + 3 * 4"), 14)

    def test_parentheses(self) -> None:
        self.assertEqual(evaluate("2 * (3 + 4)"), 14)

    def test_negative(self) -> None:
        self.assertEqual(evaluate("-3 + 1"), -2)

    def test_bad_input(self) -> None:
        with self.assertRaises(ParseError):
            evaluate("2 +")


if __name__ == "__main__":
    unittest.main()
""",
}


def ptui_toml() -> str:
    """The demo's `.ptui.toml`: the scripts ptui runs in each session's worktree."""
    python = _python()
    return f"""\
# ptui settings for this repository (see ptui's config.example.toml).
default_agent = "demo"

[scripts]
# Runs when a session is created, in its new worktree.
setup = 'echo "setup: session $PTUI_SESSION, ports $PTUI_PORT+"; test -f .env && echo ".env copied"'
# Run on demand from ptui.
test = '{python} -m unittest -v'
run = '{python} -m http.server "$PTUI_PORT" --bind 127.0.0.1'
"""


def _git(repo: Path, *args: str) -> None:
    # A fixed identity: the user's git may have none, and these are not their commits.
    command = ["git", "-C", str(repo), "-c", "user.name=ptui demo"]
    command += ["-c", "user.email=demo@ptui.invalid", "-c", "commit.gpgsign=false", *args]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["failed"])[-1]
        raise PtuiError(f"git {args[0]} in {repo}: {detail}")


def is_demo_repo(path: Path) -> bool:
    """Whether `path` is a repository made by `ptui demo`."""
    return (path / ".git" / MARKER).is_file()


def build_demo_repo(repo: Path) -> None:
    """Write the project to `repo` (which must not exist) and commit it on `main`."""
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    for name, text in {**FILES, ".ptui.toml": ptui_toml()}.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "tinycalc: a parser, a command line and tests")
    # Ignored and uncommitted: copied into every session through .worktreeinclude.
    (repo / ".env").write_text("TINYCALC_API_KEY=demo-only-not-a-secret\n", encoding="utf-8")
    (repo / ".git" / MARKER).write_text("made by `ptui demo`; safe to delete\n", encoding="utf-8")


def ensure_demo_repo(parent: Path) -> tuple[Path, bool]:
    """The demo repository under `parent`, made if missing: (path, whether it was made).

    Refuses a `parent` that holds something other than ptui's demo.
    """
    parent = parent.expanduser().absolute()
    repo = parent / REPO_NAME
    if is_demo_repo(repo):
        return repo, False
    if repo.exists():
        raise PtuiError(f"{repo} exists and was not made by `ptui demo`; choose another --dir")
    if parent.exists() and not parent.is_dir():
        raise PtuiError(f"{parent} is not a directory; choose another --dir")
    build_demo_repo(repo)
    return repo, True


def remove_demo_dir(parent: Path) -> None:
    """Delete the demo repository and its worktrees under `parent` (only ptui's demo)."""
    parent = parent.expanduser().absolute()
    repo = parent / REPO_NAME
    if not repo.exists():
        return
    if not is_demo_repo(repo):
        raise PtuiError(f"{repo} was not made by `ptui demo`; not removing it")
    shutil.rmtree(repo)
    worktrees = parent / f"{REPO_NAME}.ptui-worktrees"
    if worktrees.is_dir():
        shutil.rmtree(worktrees)
