"""Settings: the global config file merged with the repository's `.ptui.toml`.

`load_config(repo)` reads `~/.config/ptui/config.toml` (or `$PTUI_CONFIG`) and then
`<repo>/.ptui.toml`; repository keys override global ones and tables merge key by
key. Each file is checked on its own, so every problem is reported as one line
`path:line: message` (a `ConfigError`) naming the file that has it. The result is a
tree of frozen dataclasses; `config.example.toml` documents every key.

A repository's file is someone else's input. Until the user trusts its exact
content (`trusted=True`, decided by `tui.server.trust` from the digest), every key
of it is ignored except those in `TRUST_FREE_KEYS`, which are safe by design; the
ignored keys are listed in `Config.ignored` so the user can be told.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import os
import re
import sys
import tomllib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui import paths
from tui.errors import PtuiError
from tui.patterns import NO_PATTERNS, PatternError, PatternSet, compile_patterns
from tui.term.keys import is_key_name

TRUST_FREE_KEYS: frozenset[str] = frozenset({"terminal.sync_timeout_ms"})
"""Repository keys read even from an untrusted `.ptui.toml`.

Default-deny: a key not listed here (and any key added later) needs trust. A key
belongs here only if it can run no code, move no file, name no ref, open no port
and cost no CPU. `terminal.sync_timeout_ms` qualifies: it only bounds (0-10 s,
checked) how long a frame the program itself marked as synchronized is held.
"""

PERSONAL_KEYS: frozenset[str] = frozenset({"ui", "server.log_max_bytes"})
"""Keys (or whole tables) only the user's own file may set, trusted repository or not:
the client's keys and look, and the server's log, belong to no one repository."""

PORTS_PER_SESSION = 10
"""Each session owns a block of this many ports, starting at `PTUI_PORT`."""

NOTIFY_CHOICES = ("toast", "bell", "osc9", "none")
PROMPT_MODES = ("arg", "stdin", "none")  # plus "flag:<flag>"
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class ConfigError(PtuiError):
    """A config file is invalid; the message is one line `path:line: message`."""


@dataclass(frozen=True)
class GitConfig:
    """`[git]`: how session branches and worktrees are made."""

    branch_prefix: str = "ptui/"
    """Prefix of every session branch: `ptui/fix-login`."""
    worktrees_dir: str = ""
    """Where worktrees go; "" means `<repo parent>/<repo name>.ptui-worktrees`."""
    default_base: str = ""
    """Branch, tag or commit new sessions start from; "" means the current branch."""

    def worktrees_path(self, repo: Path) -> Path:
        """The directory holding `repo`'s session worktrees (relative paths: to `repo`)."""
        if not self.worktrees_dir:
            return repo.parent / f"{repo.name}.ptui-worktrees"
        return repo / Path(self.worktrees_dir).expanduser()


@dataclass(frozen=True)
class TerminalConfig:
    """`[terminal]`: the emulator behind every session."""

    scrollback: int = 10_000
    """Lines of history kept per session."""
    sync_timeout_ms: int = 150
    """Longest hold of a synchronized-output frame (`?2026h`) before it is drawn anyway."""


@dataclass(frozen=True)
class UiConfig:
    """`[ui]`: the terminal client."""

    theme: str = "ptui-dark"
    """Theme name, from `themes/` or `<config dir>/themes`."""
    # ctrl+] (GS, 0x1d) because no agent ptui runs uses it: Claude Code and Codex take
    # ctrl+c/d/t/r/o/g/j/b/f/u/k/z, esc and shift+tab; opencode's leader is ctrl+x;
    # ctrl+b is tmux's prefix (and Claude's "background this command"); readline's
    # ctrl+] (character-search) is rarely used; telnet made it the escape key.
    leader: str = "ctrl+right_square_bracket"
    """Key that starts a ptui command while a session has the keyboard (written as ctrl+])."""
    notify: str = "toast"
    """How a session waiting for you is announced: toast, bell, osc9 or none."""
    keys: Mapping[str, str] = field(default_factory=dict)
    """Binding id -> key(s), comma separated: remaps ptui's own bindings."""


@dataclass(frozen=True)
class ServerConfig:
    """`[server]`: the per-user session host."""

    port_base: int = 41_000
    """First port handed out; session n gets `port_base + 10 * n` and the 9 above it."""
    log_max_bytes: int = 10 * 1024 * 1024
    """Size at which the server log is rotated."""


@dataclass(frozen=True)
class AgentProfile:
    """`[agents.<name>]`: how to start, resume and read one kind of agent."""

    name: str
    command: tuple[str, ...]
    """Argument vector that starts the agent (never a shell string)."""
    prompt: str = "arg"
    """How the task reaches it: arg, flag:<flag>, stdin (typed after start) or none."""
    resume: tuple[str, ...] = ()
    """Argument vector that resumes its last conversation; empty: rerun `command`."""
    busy_patterns: PatternSet = NO_PATTERNS
    """Patterns (RE2 syntax) that, found in the screen text, mean it is working."""
    waiting_patterns: PatternSet = NO_PATTERNS
    """Patterns that mean it is waiting for the user (checked before busy)."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra environment variables for the agent."""

    def argv_for(self, task: str) -> list[str]:
        """The argument vector that starts this agent on `task`."""
        argv = list(self.command)
        if not task or self.prompt in ("stdin", "none"):
            return argv
        # A task starting with "-" would be parsed as an option; a leading space
        # changes nothing for the model and everything for the argument parser.
        text = f" {task}" if task.startswith("-") else task
        if self.prompt.startswith("flag:"):
            argv.append(self.prompt.removeprefix("flag:"))
        argv.append(text)
        return argv

    def resume_argv(self) -> list[str]:
        """The argument vector that resumes the agent's last conversation."""
        return list(self.resume or self.command)

    @property
    def types_prompt(self) -> bool:
        """Whether the task is typed into the PTY after start (prompt = "stdin")."""
        return self.prompt == "stdin"


@dataclass(frozen=True)
class Config:
    """Everything ptui reads from config files, with defaults filled in."""

    default_agent: str = "claude"
    """Agent used when a new session names none."""
    git: GitConfig = field(default_factory=GitConfig)
    terminal: TerminalConfig = field(default_factory=TerminalConfig)
    ui: UiConfig = field(default_factory=UiConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    agents: Mapping[str, AgentProfile] = field(default_factory=dict)
    scripts: Mapping[str, str] = field(default_factory=dict)
    """Script name -> shell command, run in a session's worktree."""
    sources: tuple[Path, ...] = ()
    """The files that were read, global first."""
    repo_digest: str = ""
    """sha256 of the repository's `.ptui.toml` as read ("" if none): what trust is given to."""
    ignored: tuple[str, ...] = ()
    """Dotted keys of an untrusted repository file that were not applied (sorted)."""

    def agent(self, name: str) -> AgentProfile:
        """The profile called `name`; unknown names raise a ConfigError listing known ones."""
        try:
            return self.agents[name]
        except KeyError:
            known = ", ".join(sorted(self.agents))
            raise ConfigError(f"unknown agent {name!r}; known agents: {known}") from None


# Built-in agent profiles, in the same shape as TOML so user tables merge onto them.
# Flags were checked against each tool's documentation; screen texts drift between
# releases, so patterns are deliberately short and users can override them.
BUILTIN_AGENTS: dict[str, dict[str, Any]] = {
    "claude": {
        "command": ["claude"],
        "prompt": "arg",  # `claude "task"` starts an interactive session on it
        "resume": ["claude", "--continue"],
        "busy_patterns": [r"(?i)esc to interrupt"],
        "waiting_patterns": [r"Do you want to", r"Would you like to proceed", r"❯ 1\. Yes"],
        "env": {},
    },
    "codex": {
        "command": ["codex"],
        "prompt": "arg",
        "resume": ["codex", "resume", "--last"],
        "busy_patterns": [r"(?i)esc to interrupt", r"Working \(\d+s"],
        # Older releases asked "Allow command?", newer ones "Would you like to ...".
        "waiting_patterns": [
            r"Allow command\?",
            r"Would you like to (run|make|apply)",
            r"Yes, proceed",
        ],
        "env": {},
    },
    "aider": {
        "command": ["aider"],
        # `--message` sends one message and then exits, so the task is typed instead.
        "prompt": "stdin",
        "resume": ["aider", "--restore-chat-history"],
        # aider shows no steady "working" marker; status falls back to output activity.
        "busy_patterns": [],
        "waiting_patterns": [r"\(Y\)es/\(N\)o", r"(?m)^(\w+ )?> ?$"],
        "env": {},
    },
    "gemini": {
        "command": ["gemini"],
        "prompt": "flag:--prompt-interactive",  # -i: run the prompt, stay interactive
        "resume": ["gemini", "--resume", "latest"],
        # Unverified against a live gemini: texts from its source and docs.
        "busy_patterns": [r"(?i)esc to cancel"],
        "waiting_patterns": [r"Allow execution", r"Apply this change\?", r"Yes, allow once"],
        "env": {},
    },
    "opencode": {
        "command": ["opencode"],
        # Some 1.0 releases only prefill the prompt box with --prompt (needs Enter).
        "prompt": "flag:--prompt",
        "resume": ["opencode", "--continue"],
        # Unverified against a live opencode.
        "busy_patterns": [r"(?i)esc (to )?interrupt"],
        "waiting_patterns": [r"Allow once", r"Permission required"],
        "env": {},
    },
    "demo": {
        # ptui's own demo agent (tui.demo.agent), so `ptui demo` needs nothing installed;
        # command and resume are filled with this Python at load time (see _demo_argv).
        "command": [],
        "prompt": "arg",
        "resume": [],
        "busy_patterns": [r"ctrl\+c to interrupt"],
        "waiting_patterns": [r"Apply these changes\? \[y/n\]"],
        "env": {},
    },
    "shell": {
        "command": [],  # filled with $SHELL (else /bin/sh) at load time
        "prompt": "none",  # a task is a description, never a command to run
        "resume": [],
        "busy_patterns": [],
        "waiting_patterns": [],
        "env": {},
    },
}


# ---------------------------------------------------------------- validation
Check = Callable[[Any], str | None]
"""Returns what is wrong with a value ("must be ..."), or None if it is fine."""


def _describe(value: Any) -> str:
    kind = {bool: "boolean", int: "integer", float: "float", str: "string", list: "array"}
    name = "table" if isinstance(value, dict) else kind.get(type(value), type(value).__name__)
    text = repr(value)
    return f"{name} {text if len(text) <= 40 else text[:37] + '...'}"


def _is_str(v: Any) -> str | None:
    return None if isinstance(v, str) else "must be a string"


def _int_range(low: int, high: int) -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, int) or isinstance(v, bool):
            return "must be an integer"
        return None if low <= v <= high else f"must be between {low} and {high}"

    return check


def _choice(*choices: str) -> Check:
    def check(v: Any) -> str | None:
        return None if v in choices else "must be one of " + ", ".join(choices)

    return check


def _str_list(v: Any) -> str | None:
    ok = isinstance(v, list) and all(isinstance(x, str) for x in v)
    return None if ok else "must be an array of strings"


def _str_map(v: Any) -> str | None:
    ok = isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
    return None if ok else "must be a table of strings"


def _regex_list(v: Any) -> str | None:
    if problem := _str_list(v):
        return problem
    try:
        compile_patterns(v)
    except PatternError as exc:
        return str(exc)  # "[i] ...": _check puts the key in front
    return None


def _prompt(v: Any) -> str | None:
    if v in PROMPT_MODES or (isinstance(v, str) and re.fullmatch(r"flag:-\S+", v)):
        return None
    return 'must be "arg", "flag:--option", "stdin" or "none"'


def _key_names(v: Any) -> str | None:
    usage = 'must be a key name like "ctrl+]" or a comma-separated list of them'
    if _is_str(v):
        return usage
    for part in (p.strip() for p in v.split(",")):
        # Checked against the table keys are encoded from, so a name no terminal can
        # send (a leader nobody can press) is refused here, not discovered in a session.
        if not part or not is_key_name(normalize_key(part)):
            return f"{usage}; {part!r} is not a key" if part else usage
    return None


def _leader(v: Any) -> str | None:
    if problem := _key_names(v):
        return problem
    for part in (p.strip() for p in v.split(",")):
        head, _, key = part.rpartition("+")
        # A bare character or enter/tab/escape as leader would take that key from
        # every program: typing it would start a ptui command instead.
        if not head and (len(key) == 1 or key in ("enter", "tab", "escape", "space", "backspace")):
            return (
                f"must hold a modifier (ctrl+, alt+) or be a function key; {part!r} "
                "would be taken from every program"
            )
    return None


_SECTIONS: dict[str, dict[str, Check]] = {
    "git": {"branch_prefix": _is_str, "worktrees_dir": _is_str, "default_base": _is_str},
    "terminal": {
        "scrollback": _int_range(0, 1_000_000),
        "sync_timeout_ms": _int_range(0, 10_000),
    },
    "ui": {
        "theme": _is_str,
        "leader": _leader,
        "notify": _choice(*NOTIFY_CHOICES),
        "keys": _str_map,
    },
    "server": {
        "port_base": _int_range(1024, 65535 - PORTS_PER_SESSION),
        "log_max_bytes": _int_range(1024, 2**40),
    },
}
_AGENT_KEYS: dict[str, Check] = {
    "command": _str_list,
    "prompt": _prompt,
    "resume": _str_list,
    "busy_patterns": _regex_list,
    "waiting_patterns": _regex_list,
    "env": _str_map,
}
_TOP_KEYS = ["default_agent", *_SECTIONS, "agents", "scripts"]


def schema_keys() -> list[str]:
    """Every documented key as a dotted path (`agents.<name>.command`, `scripts.<name>`)."""
    keys = ["default_agent"]
    keys += [f"{section}.{key}" for section, checks in _SECTIONS.items() for key in checks]
    keys += [f"agents.<name>.{key}" for key in _AGENT_KEYS]
    return [*keys, "scripts.<name>"]


_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_DOTTED = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER_RE = re.compile(rf"^\s*\[\[?\s*({_DOTTED})\s*\]\]?\s*(?:#.*)?$")
_ASSIGN_RE = re.compile(rf"^\s*({_DOTTED})\s*=")


def _split_dotted(text: str) -> tuple[str, ...]:
    return tuple(p.strip("\"'") for p in re.findall(_KEY_PART, text))


@dataclass
class _Source:
    """One config file's text, for turning a key path into a line number."""

    path: Path
    text: str
    _lines: dict[tuple[str, ...], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A simple line scan, not a TOML parser: good enough to point at a key.
        table: tuple[str, ...] = ()
        for number, line in enumerate(self.text.splitlines(), 1):
            if match := _HEADER_RE.match(line):
                table = _split_dotted(match.group(1))
                self._lines.setdefault(table, number)
            elif match := _ASSIGN_RE.match(line):
                self._lines.setdefault(table + _split_dotted(match.group(1)), number)

    def line_of(self, *key: str) -> int:
        """Line defining `key`, else its nearest enclosing table, else 1."""
        for end in range(len(key), 0, -1):
            if key[:end] in self._lines:
                return self._lines[key[:end]]
        return 1

    def error(self, key: tuple[str, ...], message: str) -> ConfigError:
        """A ConfigError located at `key`; the message is flattened to one line."""
        flat = " ".join(message.split())
        return ConfigError(f"{self.path}:{self.line_of(*key)}: {flat}")


def _parse(source: _Source) -> dict[str, Any]:
    try:
        return tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        # tomllib (3.11) puts the place only in the text: "... (at line 3, column 9)".
        if match := re.search(r"\s*\(at line (\d+), column (\d+)\)$", message):
            line, column = match.groups()
            message = f"{message[: match.start()]} (column {column})"
        else:
            line = str(max(1, source.text.count("\n") + 1))
            message = re.sub(r"\s*\(at end of document\)$", " at end of file", message)
        flat = " ".join(message.split())
        raise ConfigError(f"{source.path}:{line}: invalid TOML: {flat}") from None


def _unknown(source: _Source, where: tuple[str, ...], key: str, valid: list[str]) -> ConfigError:
    table = f"[{'.'.join(where)}]" if where else "the top level"
    message = f"unknown key {key!r} in {table}"
    if close := difflib.get_close_matches(key, valid, n=1, cutoff=0.6):
        message += f"; did you mean {close[0]!r}?"
    else:
        homes = [s for s, checks in _SECTIONS.items() if key in checks]
        homes += ["agents.<name>"] if key in _AGENT_KEYS else []
        hint = f"it belongs in [{homes[0]}]" if homes else "valid keys: " + ", ".join(valid)
        message += f"; {hint}"
    return source.error((*where, key), message)


def _check(source: _Source, key: tuple[str, ...], value: Any, check: Check) -> None:
    if problem := check(value):
        where = f"[{'.'.join(key[:-1])}] " if len(key) > 1 else ""
        if problem.startswith("["):  # names the bad item itself: busy_patterns[1] ...
            raise source.error(key, f"{where}{key[-1]}{problem}")
        raise source.error(key, f"{where}{key[-1]} {problem}, got {_describe(value)}")


def _check_table(source: _Source, key: tuple[str, ...], value: Any) -> dict[str, Any]:
    _check(source, key, value, lambda v: None if isinstance(v, dict) else "must be a table")
    table: dict[str, Any] = value
    return table


def _check_name(source: _Source, key: tuple[str, ...], kind: str) -> None:
    if not _NAME_RE.fullmatch(key[-1]):
        raise source.error(key, f"{kind} name {key[-1]!r} must be letters, digits, '_', '-' or '.'")


def _validate(raw: dict[str, Any], source: _Source, *, repository: bool = False) -> None:
    """Check one file's keys, types and values; raise at the first problem."""
    if repository:
        for path in _leaves(raw):
            if personal := next((k for k in PERSONAL_KEYS if k in _prefixes(path)), None):
                raise source.error(
                    path,
                    f"{_table_or_key(personal)} is yours alone: set it in your own config "
                    f"({paths.config_file()}), not in a repository's {paths.REPO_CONFIG_NAME}",
                )
    for key, value in raw.items():
        if key == "default_agent":
            _check(source, (key,), value, _is_str)
        elif key in _SECTIONS:
            checks = _SECTIONS[key]
            for sub, sub_value in _check_table(source, (key,), value).items():
                if sub not in checks:
                    raise _unknown(source, (key,), sub, list(checks))
                _check(source, (key, sub), sub_value, checks[sub])
                if (key, sub) == ("ui", "keys"):
                    for binding, keys in sub_value.items():
                        _check(source, (key, sub, binding), keys, _key_names)
        elif key == "agents":
            for name, agent in _check_table(source, (key,), value).items():
                _check_name(source, (key, name), "agent")
                for sub, sub_value in _check_table(source, (key, name), agent).items():
                    if sub not in _AGENT_KEYS:
                        raise _unknown(source, (key, name), sub, list(_AGENT_KEYS))
                    _check(source, (key, name, sub), sub_value, _AGENT_KEYS[sub])
        elif key == "scripts":
            for name, command in _check_table(source, (key,), value).items():
                _check_name(source, (key, name), "script")
                _check(source, (key, name), command, _is_str)
        else:
            raise _unknown(source, (), key, _TOP_KEYS)


# ---------------------------------------------------------------- building
_KEY_NAME_REPLACEMENTS = {  # Textual's friendlier names for a few characters
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}


def normalize_key(keys: str) -> str:
    """Textual's spelling of a key list: `ctrl+]` -> `ctrl+right_square_bracket`.

    Textual names punctuation by its Unicode name and would never match `ctrl+]`.
    """
    out = []
    for item in (k.strip() for k in keys.split(",")):
        if item.endswith("++") or item == "+":  # the plus key itself
            prefix, char = item[:-1], "+"
        else:
            head, plus, char = item.rpartition("+")
            prefix = head + plus
        if len(char) == 1 and not char.isalnum():
            name = unicodedata.name(char, char).lower().replace(" ", "_").replace("-", "_")
            char = _KEY_NAME_REPLACEMENTS.get(name, name)
        out.append(prefix + char)
    return ",".join(out)


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: tables merge key by key, anything else in `over` replaces."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _last_source(layers: list[tuple[_Source, dict[str, Any]]], *key: str) -> _Source | None:
    """The last file that sets `key` (repository before global)."""
    for layer in layers[::-1]:
        node: object = layer[1]
        for part in key:
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            return layer[0]
    return None


def _demo_argv() -> list[str]:
    """The demo agent run by this very Python (it ships inside ptui).

    `-P`: the worktree the agent runs in is not put on `sys.path`, so a project
    with its own `tui` package cannot stand in for ptui's.
    """
    return [sys.executable, "-P", "-m", "tui.demo.agent"]


def _build_agents(
    raw: Mapping[str, Any], layers: list[tuple[_Source, dict[str, Any]]]
) -> dict[str, AgentProfile]:
    defaults = copy.deepcopy(BUILTIN_AGENTS)
    defaults["shell"]["command"] = [os.environ.get("SHELL") or "/bin/sh"]
    defaults["demo"]["command"] = _demo_argv()
    defaults["demo"]["resume"] = [*_demo_argv(), "--resume"]
    agents = {}
    for name, table in _merge(defaults, raw).items():
        if not table.get("command"):
            source = _last_source(layers, "agents", name)
            assert source is not None  # built-ins all have a command
            raise source.error(("agents", name), f"agent {name!r} needs a command")
        agents[name] = AgentProfile(
            name=name,
            command=tuple(table["command"]),
            prompt=table.get("prompt", "arg"),
            resume=tuple(table.get("resume", ())),
            busy_patterns=compile_patterns(table.get("busy_patterns", ())),
            waiting_patterns=compile_patterns(table.get("waiting_patterns", ())),
            env=dict(table.get("env", {})),
        )
    return agents


def repo_digest(text: str) -> str:
    """What trust is given to: the sha256 of a `.ptui.toml`'s exact text."""
    return hashlib.sha256(text.encode()).hexdigest()


def _read(path: Path) -> _Source | None:
    try:
        # Bytes, not read_text: the digest must cover the exact content (newlines too).
        return _Source(path, path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"{path}:1: cannot read config: {reason}") from None


def _leaves(raw: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path that holds a value (maps such as `env` and `ui.keys` are values)."""
    found: list[tuple[str, ...]] = []
    for key, value in raw.items():
        path = (*prefix, key)
        is_map_value = path == ("ui", "keys") or (len(path) == 3 and path[::2] == ("agents", "env"))
        if isinstance(value, dict) and not is_map_value:
            found += _leaves(value, path)
        else:
            found.append(path)
    return found


def _table_or_key(dotted: str) -> str:
    """How a message names `dotted`: `[ui]` for a whole table, `server.log_max_bytes`."""
    return dotted if "." in dotted else f"[{dotted}]"


def _prefixes(path: tuple[str, ...]) -> set[str]:
    """`("ui", "keys", "diff")` -> {"ui", "ui.keys", "ui.keys.diff"}."""
    return {".".join(path[:end]) for end in range(1, len(path) + 1)}


def _untrusted_view(raw: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The keys of an untrusted file that apply anyway, and the dotted keys ignored."""
    kept: dict[str, Any] = {}
    ignored: list[str] = []
    for path in _leaves(raw):
        if ".".join(path) not in TRUST_FREE_KEYS:
            ignored.append(".".join(path))
            continue
        node, into = raw, kept
        for part in path[:-1]:
            node, into = node[part], into.setdefault(part, {})
        into[path[-1]] = node[path[-1]]
    return kept, tuple(sorted(ignored))


def _check_worktrees_dir(config: Config, repo: Path | None, layers: list[Any]) -> None:
    """Refuse a configured worktrees directory that others could read or replace."""
    setting = config.git.worktrees_dir
    if not setting or (repo is None and not Path(setting).is_absolute()):
        return
    target = config.git.worktrees_path(repo or Path("/"))
    if problem := paths.unsafe_dir_reason(target):
        source = _last_source(layers, "git", "worktrees_dir")
        assert source is not None  # the setting came from a file
        raise source.error(("git", "worktrees_dir"), f"git.worktrees_dir {target} {problem}")


def load_config(
    repo: Path | None = None, *, repo_text: str | None = None, trusted: bool = False
) -> Config:
    """Load the global config, then `repo`'s `.ptui.toml` over it.

    `repo_text`, if given, is used instead of the file in `repo` (for example the
    copy read from the base branch). Missing files are simply skipped. Unless
    `trusted`, the repository file is checked but only `TRUST_FREE_KEYS` of it
    apply; the others are listed in `Config.ignored`.
    """
    layers: list[tuple[_Source, dict[str, Any]]] = []
    global_path = paths.config_file()
    if os.environ.get(paths.CONFIG_ENV) and not global_path.is_file():
        raise ConfigError(f"{global_path}:1: no such config file (from ${paths.CONFIG_ENV})")
    repo_source: _Source | None = None
    if repo is not None:
        repo_path = repo / paths.REPO_CONFIG_NAME
        repo_source = _read(repo_path) if repo_text is None else _Source(repo_path, repo_text)
        if repo_source is not None and not repo_source.text:
            repo_source = None  # an empty file (or none on the base) sets nothing
    ignored: tuple[str, ...] = ()
    for source in (_read(global_path), repo_source):
        if source is not None:
            raw = _parse(source)
            _validate(raw, source, repository=source is repo_source)
            if source is repo_source and not trusted:
                raw, ignored = _untrusted_view(raw)
            layers.append((source, raw))

    merged: dict[str, Any] = {}
    for _, raw in layers:
        merged = _merge(merged, raw)
    agents = _build_agents(merged.get("agents", {}), layers)
    default_agent = merged.get("default_agent", Config.default_agent)
    if default_agent not in agents:
        source = _last_source(layers, "default_agent")
        assert source is not None  # the built-in default names a built-in agent
        known = ", ".join(sorted(agents))
        raise source.error(
            ("default_agent",), f"default_agent {default_agent!r} is not an agent; known: {known}"
        )
    git_raw = dict(merged.get("git", {}))
    if git_raw.get("worktrees_dir"):
        git_raw["worktrees_dir"] = os.path.expanduser(git_raw["worktrees_dir"])
    ui_raw = dict(merged.get("ui", {}))
    ui_raw["leader"] = normalize_key(ui_raw.get("leader", UiConfig.leader))
    ui_raw["keys"] = {k: normalize_key(v) for k, v in ui_raw.get("keys", {}).items()}
    config = Config(
        default_agent=default_agent,
        git=GitConfig(**git_raw),
        terminal=TerminalConfig(**merged.get("terminal", {})),
        ui=UiConfig(**ui_raw),
        server=ServerConfig(**merged.get("server", {})),
        agents=agents,
        scripts=dict(merged.get("scripts", {})),
        sources=tuple(source.path for source, _ in layers),
        repo_digest=repo_digest(repo_source.text) if repo_source else "",
        ignored=ignored,
    )
    _check_worktrees_dir(config, repo, layers)
    return config
