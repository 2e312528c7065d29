"""Settings: global file + repository file, merged; every mistake is one `path:line:` line."""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tui import paths
from tui.config import (
    BUILTIN_AGENTS,
    AgentProfile,
    Config,
    ConfigError,
    UiConfig,
    load_config,
    schema_keys,
)
from tui.server.status import RuleSet, read_screen
from tui.term.keys import normalize_key

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def write_global(text: str) -> Path:
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    return path


def config_error(path: Path, text: str, repo: Path | None = None, *, trusted: bool = True) -> str:
    """Write `text` to `path`, load, and return the one-line error (asserting its shape)."""
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(repo, trusted=trusted)
    message = str(info.value)
    assert "\n" not in message
    assert re.match(rf"{re.escape(str(path))}:\d+: \S", message), message
    return message


# ---------------------------------------------------------------- defaults and merging
def test_no_files_gives_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELL", "/bin/zsh")
    config = load_config()
    assert config.default_agent == "claude"
    assert config.git.branch_prefix == "ptui/"
    assert config.terminal.scrollback == 10_000
    assert config.server.port_base == 41_000
    assert config.ui.notify == ("toast",)
    assert set(config.agents) == {"codex", "claude", "aider", "gemini", "opencode", "demo", "shell"}
    assert config.agent("shell").command == ("/bin/zsh",)
    assert config.sources == ()
    assert config.scripts == {}


def test_repo_keys_override_global_and_tables_merge_key_by_key(repo: Path) -> None:
    write_global(
        '[git]\nbranch_prefix = "me/"\ndefault_base = "develop"\n'
        '[agents.claude]\nenv = { A = "1", B = "2" }\n'
        '[scripts]\nlint = "ruff check"\ntest = "pytest -q"\n'
    )
    (repo / ".ptui.toml").write_text(
        '[git]\nbranch_prefix = "agent/"\n'
        '[agents.claude]\nenv = { B = "3" }\ncommand = ["claude", "--model", "opus"]\n'
        '[scripts]\ntest = "make test"\n'
    )
    config = load_config(repo, trusted=True)
    assert config.git.branch_prefix == "agent/"
    assert config.git.default_base == "develop"  # kept from the global file
    claude = config.agent("claude")
    assert claude.env == {"A": "1", "B": "3"}
    assert claude.command == ("claude", "--model", "opus")
    assert claude.resume == ("claude", "--continue")  # built-in value kept
    assert config.scripts == {"lint": "ruff check", "test": "make test"}
    assert config.sources == (paths.config_file(), repo / ".ptui.toml")


def test_new_agent_can_be_defined(repo: Path) -> None:
    (repo / ".ptui.toml").write_text(
        'default_agent = "mine"\n[agents.mine]\ncommand = ["mine", "-i"]\nprompt = "flag:--task"\n'
        "busy_patterns = ['\\bthinking\\b']\n"
    )
    config = load_config(repo, trusted=True)
    mine = config.agent(config.default_agent)
    assert mine.argv_for("fix it") == ["mine", "-i", "--task", "fix it"]
    assert mine.busy_patterns.search("still thinking now") == 0
    assert mine.resume_argv() == ["mine", "-i"]


def test_ptui_config_names_the_global_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    custom = tmp_path / "custom.toml"
    custom.write_text("[terminal]\nscrollback = 5\n")
    monkeypatch.setenv("PTUI_CONFIG", str(custom))
    assert load_config().terminal.scrollback == 5
    monkeypatch.setenv("PTUI_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match=r"missing\.toml:1: no such config file"):
        load_config()


def test_repo_text_replaces_the_file_and_is_digested(repo: Path) -> None:
    (repo / ".ptui.toml").write_text('[scripts]\nsetup = "rm -rf /"\n')
    trusted = '[scripts]\nsetup = "npm ci"\n'
    config = load_config(repo, repo_text=trusted, trusted=True)
    assert config.scripts == {"setup": "npm ci"}
    assert config.repo_digest == hashlib.sha256(trusted.encode()).hexdigest()
    assert load_config().repo_digest == ""


def test_worktrees_dir_default_and_tilde(repo: Path, isolated_home: Path) -> None:
    assert load_config(repo).git.worktrees_path(repo) == repo.parent / "project.ptui-worktrees"
    (repo / ".ptui.toml").write_text('[git]\nworktrees_dir = "~/trees"\n')
    config = load_config(repo, trusted=True)
    assert config.git.worktrees_dir == str(isolated_home / "trees")
    assert config.git.worktrees_path(repo) == isolated_home / "trees"


def test_leader_and_key_remaps_use_textual_key_names() -> None:
    assert UiConfig().leader == "ctrl+right_square_bracket"
    write_global('[ui]\nleader = "ctrl+]"\n[ui.keys]\n"diff.open" = "d, ctrl+/"\n')
    config = load_config()
    assert config.ui.leader == "ctrl+right_square_bracket"
    assert config.ui.keys == {"diff.open": "d,ctrl+slash"}
    assert normalize_key("ctrl++") == "ctrl+plus"
    assert normalize_key("f5") == "f5"


# ---------------------------------------------------------------- agents
def test_argv_for_each_prompt_mode() -> None:
    def profile(prompt: str) -> AgentProfile:
        return AgentProfile(name="x", command=("x", "-v"), prompt=prompt)

    assert profile("arg").argv_for("do it") == ["x", "-v", "do it"]
    assert profile("flag:--message").argv_for("do it") == ["x", "-v", "--message", "do it"]
    assert profile("stdin").argv_for("do it") == ["x", "-v"]
    assert profile("stdin").types_prompt
    assert profile("none").argv_for("do it") == ["x", "-v"]
    assert profile("arg").argv_for("") == ["x", "-v"]
    # A task that looks like an option must not be parsed as one.
    assert profile("arg").argv_for("--help me") == ["x", "-v", " --help me"]


def test_builtin_profiles() -> None:
    config = load_config()
    assert config.agent("codex").resume_argv() == ["codex", "resume", "--last"]
    assert config.agent("claude").argv_for("fix") == ["claude", "fix"]
    assert config.agent("aider").types_prompt
    # The screens are read by the shipped rules; the patterns are the user's layer.
    claude, codex = config.agent("claude"), config.agent("codex")
    assert not claude.busy_patterns and not codex.waiting_patterns
    hits = read_screen("✻ Thinking… (3s · esc to interrupt)", RuleSet("claude").books)
    assert [h.status for h in hits] == ["busy"]
    hits = read_screen("Do you want to make this edit?", RuleSet("claude").books)
    assert [h.status for h in hits] == ["waiting"]
    hits = read_screen("• Working (12s • Esc to interrupt)", RuleSet("codex").books)
    assert {h.status for h in hits} == {"busy"}


def test_unknown_agent_lists_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown agent 'cladue'; known agents: aider, claude"):
        load_config().agent("cladue")


# ---------------------------------------------------------------- config.example.toml
def test_example_loads_and_documents_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = load_config()
    monkeypatch.setenv("PTUI_CONFIG", str(EXAMPLE))
    example = load_config()
    assert example.sources == (EXAMPLE,)
    # Every value in the example is the default (scripts are only examples).
    for name in ("default_agent", "git", "terminal", "ui", "server", "agents"):
        assert getattr(example, name) == getattr(defaults, name), name


def test_example_has_every_schema_key() -> None:
    doc = tomllib.loads(EXAMPLE.read_text())
    missing = []
    for key in schema_keys():
        parts = key.split(".")
        nodes: list[Any] = [doc]
        for part in parts:
            if part == "<name>":
                nodes = [v for node in nodes for v in node.values() if isinstance(node, dict)]
            else:
                nodes = [node[part] for node in nodes if isinstance(node, dict) and part in node]
        if not nodes:
            missing.append(key)
    assert missing == []
    assert set(doc["agents"]) == set(BUILTIN_AGENTS)


def test_schema_lists_every_config_field() -> None:
    keys = set(schema_keys())
    for section, cls in (("git", "GitConfig"), ("terminal", "TerminalConfig")):
        fields = __import__("tui.config", fromlist=[cls]).__dict__[cls].__dataclass_fields__
        assert {f"{section}.{f}" for f in fields} <= keys
    assert {f"agents.<name>.{f}" for f in AgentProfile.__dataclass_fields__ if f != "name"} <= keys
    top = {f for f in Config.__dataclass_fields__}
    assert top - {k.split(".")[0] for k in keys} == {"sources", "repo_digest", "ignored"}


# ---------------------------------------------------------------- errors
ERRORS = [
    # (file text, line, message fragment)
    ("[git]\nbranch_prefix = \n", 2, "invalid TOML: Invalid value (column"),
    (
        '[git]\nbranch_prefx = "x/"\n',
        2,
        "unknown key 'branch_prefx' in [git]; did you mean 'branch_prefix'?",
    ),
    (
        'branch_prefix = "x/"\n',
        1,
        "unknown key 'branch_prefix' in the top level; it belongs in [git]",
    ),
    ('[gti]\nbranch_prefix = "x/"\n', 1, "unknown key 'gti' in the top level; did you mean 'git'?"),
    (
        '[terminal]\nscrollback = "lots"\n',
        2,
        "[terminal] scrollback must be an integer, got string 'lots'",
    ),
    ("[terminal]\n\nscrollback = true\n", 3, "must be an integer, got boolean True"),
    ("[server]\nport_base = 80\n", 2, "port_base must be between 1024 and"),
    ('[ui]\ntheme = "x"\nnotify = "popup"\n', 3, 'notify must be a list of "toast", "bell"'),
    ('[ui]\nnotify = ["osc9", "popup"]\n', 2, "\"desktop\" (or [] for none); 'popup' is not one"),
    ("[ui]\nkeys = 3\n", 2, "[ui] keys must be a table of strings"),
    ("git = 1\n", 1, "git must be a table, got integer 1"),
    ('[agents.claude]\nprompt = "argv"\n', 2, 'prompt must be "arg", "flag:--option"'),
    (
        "[agents.claude]\ncommand = ['claude']\nbusy_patterns = ['ok', '(unclosed']\n",
        3,
        "[agents.claude] busy_patterns[1] '(unclosed' is not a valid regex: missing )",
    ),
    ("[agents.claude]\nbusy_pattern = []\n", 2, "did you mean 'busy_patterns'?"),
    ('[agents.mine]\nprompt = "arg"\n', 1, "agent 'mine' needs a command"),
    ('[agents]\nmine = { prompt = "arg" }\n', 2, "agent 'mine' needs a command"),
    ("[agents]\nmine = { command = 5 }\n", 2, "[agents.mine] command must be an array of strings"),
    ('[agents."../x"]\ncommand = ["x"]\n', 1, "agent name '../x' must be"),
    ('x = 1\ndefault_agent = "nobody"\n', 1, "unknown key 'x'"),
    ('\ndefault_agent = "nobody"\n', 2, "default_agent 'nobody' is not an agent; known: aider"),
    ('[scripts]\nsetup = ["npm", "ci"]\n', 2, "[scripts] setup must be a string, got array"),
]


@pytest.mark.parametrize(("text", "line", "fragment"), ERRORS)
def test_errors_are_one_line_with_path_and_line(
    repo: Path, text: str, line: int, fragment: str
) -> None:
    for path in (paths.config_file(), repo / ".ptui.toml"):
        if path.name == ".ptui.toml" and text.startswith("[ui]"):
            continue  # personal keys: refused in any repository file (tested below)
        path.parent.mkdir(parents=True, exist_ok=True)
        message = config_error(path, text, repo)
        assert message.startswith(f"{path}:{line}: "), message
        assert fragment in message, message
        path.unlink()


def test_error_names_the_file_that_has_it(repo: Path) -> None:
    write_global('[git]\nbranch_prefix = "ok/"\n')
    message = config_error(repo / ".ptui.toml", "\n\n[terminal]\nscrollback = -1\n", repo)
    assert message.startswith(f"{repo / '.ptui.toml'}:4: [terminal] scrollback must be between")


def test_multiline_toml_error_is_flattened(repo: Path) -> None:
    message = config_error(repo / ".ptui.toml", 'a = "unterminated\n', repo)
    assert ":1: invalid TOML" in message


def test_unreadable_file_is_one_line(repo: Path) -> None:
    (repo / ".ptui.toml").write_bytes(b"\xff\xfe[git]\n")
    with pytest.raises(ConfigError, match=r"\.ptui\.toml:1: cannot read config: not UTF-8"):
        load_config(repo)


def test_regex_error_in_global_file_points_at_the_key() -> None:
    path = write_global("[agents.codex]\n\n\nwaiting_patterns = ['[a-']\n")
    with pytest.raises(ConfigError) as info:
        load_config()
    assert str(info.value).startswith(f"{path}:4: [agents.codex] waiting_patterns[0]")
    assert os.linesep not in str(info.value)
