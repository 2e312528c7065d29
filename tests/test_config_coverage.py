"""Every key `config.example.toml` documents has a test of what it does.

A behaviour test sets the key to a value other than its default and asserts an
observable result that differs from the default's; it says which key with
`@pytest.mark.config_key("git.branch_prefix")`. This walk fails when a documented
key has no such test, or a mark names a key the example does not document.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent
EXAMPLE = TESTS.parent / "config.example.toml"


def example_keys() -> set[str]:
    """The example's keys as dotted paths; names the user picks become `<name>`."""
    keys: set[str] = set()

    def walk(node: dict[str, Any], path: tuple[str, ...]) -> None:
        for key, value in node.items():
            here = (*path, key)
            if path == ("agents",):
                here = ("agents", "<name>")
            elif path[:1] == ("agents",):
                here = ("agents", "<name>", key)
            elif path == ("scripts",) and key != "setup":
                here = ("scripts", "<name>")  # setup has behaviour of its own
            if isinstance(value, dict) and here not in (
                ("ui", "keys"),
                ("agents", "<name>", "env"),
            ):
                walk(value, here)
            else:
                keys.add(".".join(here))

    walk(tomllib.loads(EXAMPLE.read_text()), ())
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
