"""`config.example.toml` and the schema (`tui.config.schema`) describe the same keys.

The example documents a key by setting it (to its default) or by showing it
commented out (`# diff = "d,f5"`, an optional agent `command`, a new agent). Every
schema key must be documented there, every key there must be in the schema, every
schema key carries its documentation, and a value the example sets is the schema's
default. The schema's defaults are in turn the ones loading uses.
"""

from __future__ import annotations

from typing import Any

import pytest
import tomli_w

from tests.test_config_coverage import EXAMPLE, ExampleEntry, example_entries
from tui import paths
from tui.config import PERSONAL_KEYS, TRUST_FREE_KEYS, AgentProfile, load_config, schema_keys
from tui.config.schema import AGENT_KEYS, KEYS, SECTIONS


def schema_name(path: tuple[str, ...]) -> str:
    """The schema's name for a key as a file writes it: `agents.claude.env` ->
    `agents.<name>.env`, `scripts.test` -> `scripts.<name>`."""
    if path[0] in ("agents", "scripts") and len(path) > 1:
        path = (path[0], "<name>", *path[2:])
    return ".".join(path)


def documented(entries: list[ExampleEntry]) -> set[str]:
    return {schema_name(entry.path) for entry in entries}


def test_every_schema_key_is_in_the_example() -> None:
    missing = [key for key in schema_keys() if key not in documented(example_entries())]
    assert missing == [], f"schema keys config.example.toml does not document: {missing}"


def test_every_key_in_the_example_is_in_the_schema() -> None:
    unknown = sorted(documented(example_entries()) - set(schema_keys()))
    assert unknown == [], f"keys of config.example.toml the schema does not have: {unknown}"


def test_every_key_is_documented() -> None:
    undocumented = [name for name, key in KEYS.items() if not key.doc.strip()]
    assert undocumented == []


def test_the_example_sets_each_key_to_the_schema_default() -> None:
    # Only keys ptui names: a value in an [agents.<name>] table is that agent's own
    # (test_config checks those against the built-in profiles), and scripts are examples.
    compared = {}
    for entry in example_entries():
        name = schema_name(entry.path)
        key = KEYS.get(name)
        if entry.commented or key is None or key.default is None or "<name>" in name:
            continue
        compared[name] = (entry.value, key.default)
    wrong = {name: pair for name, pair in compared.items() if pair[0] != pair[1]}
    assert wrong == {}, f"example value != schema default: {wrong}"
    # Not vacuous: every section key and the top-level key were compared.
    assert set(compared) == {"default_agent"} | {
        f"{section}.{name}" for section, keys in SECTIONS.items() for name in keys
    }


def test_schema_defaults_are_the_defaults_loading_uses() -> None:
    table: dict[str, Any] = {}
    for name, key in KEYS.items():
        if "<name>" not in name and key.default is not None:
            *sections, leaf = name.split(".")
            node = table
            for section in sections:
                node = node.setdefault(section, {})
            node[leaf] = key.default
    defaults = load_config()
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(table))
    spelled_out = load_config()
    assert spelled_out.sources == (path,)
    for name in ("default_agent", "git", "terminal", "ui", "server"):
        assert getattr(spelled_out, name) == getattr(defaults, name), name


def test_a_new_agent_gets_the_schema_defaults() -> None:
    omitted = {name for name, key in AGENT_KEYS.items() if key.default is not None}
    assert omitted == set(AGENT_KEYS) - {"command"}
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[agents.mine]\ncommand = ["mine"]\n')
    # The same profile as AgentProfile's own defaults give: the two cannot drift apart.
    assert load_config().agent("mine") == AgentProfile(name="mine", command=("mine",))


def test_trust_rules_name_schema_keys() -> None:
    assert set(TRUST_FREE_KEYS) <= set(KEYS)
    for personal in PERSONAL_KEYS:
        assert personal in SECTIONS or personal in KEYS, personal


@pytest.mark.parametrize(
    ("old", "new", "differences"),
    [
        # A key only commented-out lines document still counts ...
        ("[ui.keys]\n", "# [ui.keys]\n", set()),
        # ... and one the example forgot, or invented, does not.
        ("sync_timeout_ms = 150\n", "\n", {"terminal.sync_timeout_ms"}),
        ("scrollback = 10000\n", "scrollback = 10000\nscrollbak = 1\n", {"terminal.scrollbak"}),
        ('# command = ["bash", "-l"]\n', '# comand = ["bash", "-l"]\n', {"agents.<name>.comand"}),
    ],
)
def test_the_walk_sees_what_the_example_documents(
    old: str, new: str, differences: set[str]
) -> None:
    text = EXAMPLE.read_text()
    changed = text.replace(old, new, 1)
    assert changed != text
    assert documented(example_entries(changed)) ^ set(schema_keys()) == differences
