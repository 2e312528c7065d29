"""Every key `config.example.toml` documents has a test of what it does.

A behaviour test sets the key to a value other than its default and asserts an
observable result that differs from the default's; it says which key with
`@pytest.mark.config_key("git.branch_prefix")`. This walk fails when a documented
key has no such test, or a mark names a key the example does not document.
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.config.schema import key_at

TESTS = Path(__file__).resolve().parent
EXAMPLE = TESTS.parent / "config.example.toml"

# A header, perhaps commented out: `[agents.claude]`, `# [agents.my-agent]`.
_HEADER = re.compile(r"#?\s*(\[[^\[\]]+\])\s*(?:#.*)?")
# A commented-out key: `# new_session = "ctrl+n"` (prose has no `word =` at its start).
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*")"""
_COMMENTED_KEY = re.compile(rf"#\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*\s*=.*)")


@dataclass(frozen=True)
class ExampleEntry:
    """One key the example documents: set to a value, or shown commented out."""

    path: tuple[str, ...]
    """Where it is, as written (`("agents", "claude", "prompt")`)."""
    value: Any
    """What it is set to; for a commented-out key, the value shown."""
    commented: bool
    """Shown commented out: an illustration, not the default."""


def _holds_table(path: tuple[str, ...]) -> bool:
    """Whether `path` is one key whose value is a table of the user's names (`ui.keys`)."""
    key = key_at(path)
    return key is not None and key.holds_table


def _single_path(table: dict[str, Any]) -> tuple[tuple[str, ...], Any]:
    """`{"a": {"b": 1}}` -> `(("a", "b"), 1)`: a one-line TOML document's key and value."""
    path: tuple[str, ...] = ()
    node: Any = table
    while isinstance(node, dict) and len(node) == 1:
        ((key, node),) = node.items()
        path = (*path, key)
    return path, node


def example_entries(text: str | None = None) -> list[ExampleEntry]:
    """Every key `config.example.toml` (or `text`) documents, set or commented out.

    A table-valued key (`[ui.keys]`, an agent's `env`) is one entry, as it is one key;
    a commented-out entry of it (`# diff = "d,f5"`) documents that key.
    """
    text = EXAMPLE.read_text() if text is None else text
    entries: list[ExampleEntry] = []

    def walk(node: dict[str, Any], path: tuple[str, ...]) -> None:
        for key, value in node.items():
            here = (*path, key)
            if isinstance(value, dict) and not _holds_table(here):
                walk(value, here)
            else:
                entries.append(ExampleEntry(here, value, commented=False))

    walk(tomllib.loads(text), ())
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), 1):
        if header := _HEADER.fullmatch(line.strip()):
            table, _ = _single_path(tomllib.loads(header.group(1)))
        elif commented := _COMMENTED_KEY.fullmatch(line.strip()):
            try:
                path, value = _single_path(tomllib.loads(commented.group(1)))
            except tomllib.TOMLDecodeError as exc:
                raise AssertionError(
                    f"config.example.toml:{number}: a commented-out key that is not TOML: {exc}"
                ) from None
            path = (*table, *path)
            for end in range(1, len(path)):
                if _holds_table(path[:end]):
                    path, value = path[:end], {".".join(path[end:]): value}
                    break
            entries.append(ExampleEntry(path, value, commented=True))
    return entries


def example_keys() -> set[str]:
    """The example's keys, set or commented out, as dotted paths; names the user picks
    become `<name>`."""
    keys: set[str] = set()
    for entry in example_entries():
        path = entry.path
        if path[0] == "agents" and len(path) > 1:
            path = ("agents", "<name>", *path[2:])
        elif path[0] == "scripts" and len(path) > 1 and path[1] != "setup":
            path = ("scripts", "<name>", *path[2:])  # setup has behaviour of its own
        keys.add(".".join(path))
    return keys


def marked_keys() -> dict[str, list[str]]:
    """Key -> the tests marked `config_key(key)`, found by reading the test sources."""
    found: dict[str, list[str]] = {}
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and ast.unparse(decorator.func) == "pytest.mark.config_key"
                ):
                    for arg in decorator.args:
                        assert isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                        where = f"{path.relative_to(TESTS)}::{node.name}"
                        found.setdefault(arg.value, []).append(where)
    return found


def test_the_walk_sees_the_whole_example() -> None:
    keys = example_keys()
    assert {"default_agent", "git.branch_prefix", "ui.keys", "scripts.setup"} <= keys
    assert {"agents.<name>.command", "scripts.<name>", "server.log_max_bytes"} <= keys


def test_every_documented_key_has_a_behaviour_test() -> None:
    marked = marked_keys()
    missing = sorted(example_keys() - set(marked))
    assert missing == [], f"keys of config.example.toml without a behaviour test: {missing}"
    stale = sorted(set(marked) - example_keys())
    assert stale == [], f"config_key marks naming no documented key: {stale}"
