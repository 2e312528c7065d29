"""Reading config files: TOML with line numbers, checked against the schema, merged, trusted.

`load_config(repo)` reads `~/.config/ptui/config.toml` (or `$PTUI_CONFIG`) and then
`<repo>/.ptui.toml`; repository keys override global ones and tables merge key by
key. Each file is checked on its own against `tui.config.schema`, so every problem
is reported as one line `path:line: message` (a `ConfigError`) naming the file that
has it. The result is a `tui.config.model.Config`.

A repository's file is someone else's input. Until the user trusts its exact
content (`trusted=True`, decided by `tui.server.trust` from the digest), every key
of it is ignored except those in `TRUST_FREE_KEYS`, which are safe by design; the
ignored keys are listed in `Config.ignored` so the user can be told.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui import paths
from tui.config.agents import AgentProfile, builtin_tables
from tui.config.model import (
    Config,
    ConfigError,
    GitConfig,
    ServerConfig,
    TerminalConfig,
    UiConfig,
)
from tui.config.schema import (
    AGENT_KEYS,
    SCRIPT_KEY,
    SECTIONS,
    TOP_KEYS,
    TOP_LEVEL,
    Check,
    Key,
    key_at,
    notify_channels,
)
from tui.term.keys import normalize_key

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

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


# ---------------------------------------------------------------- reading
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


def _describe(value: Any) -> str:
    kind = {bool: "boolean", int: "integer", float: "float", str: "string", list: "array"}
    name = "table" if isinstance(value, dict) else kind.get(type(value), type(value).__name__)
    text = repr(value)
    return f"{name} {text if len(text) <= 40 else text[:37] + '...'}"


def _unknown(source: _Source, where: tuple[str, ...], key: str, valid: list[str]) -> ConfigError:
    table = f"[{'.'.join(where)}]" if where else "the top level"
    message = f"unknown key {key!r} in {table}"
    if close := difflib.get_close_matches(key, valid, n=1, cutoff=0.6):
        message += f"; did you mean {close[0]!r}?"
    else:
        homes = [section for section, keys in SECTIONS.items() if key in keys]
        homes += ["agents.<name>"] if key in AGENT_KEYS else []
        hint = f"it belongs in [{homes[0]}]" if homes else "valid keys: " + ", ".join(valid)
        message += f"; {hint}"
    return source.error((*where, key), message)


def _check(source: _Source, key: tuple[str, ...], value: Any, check: Check) -> None:
    if problem := check(value):
        where = f"[{'.'.join(key[:-1])}] " if len(key) > 1 else ""
        if problem.startswith("["):  # names the bad item itself: busy_patterns[1] ...
            raise source.error(key, f"{where}{key[-1]}{problem}")
        raise source.error(key, f"{where}{key[-1]} {problem}, got {_describe(value)}")


def _check_key(source: _Source, path: tuple[str, ...], value: Any, key: Key) -> None:
    """Check `value` against `key`, and each entry of it if the key says how."""
    _check(source, path, value, key.check)
    if key.each is not None:
        for entry, entry_value in value.items():
            _check(source, (*path, entry), entry_value, key.each)


def _check_table(source: _Source, key: tuple[str, ...], value: Any) -> dict[str, Any]:
    _check(source, key, value, lambda v: None if isinstance(v, dict) else "must be a table")
    table: dict[str, Any] = value
    return table


def _check_name(source: _Source, key: tuple[str, ...], kind: str) -> None:
    if not _NAME_RE.fullmatch(key[-1]):
        raise source.error(key, f"{kind} name {key[-1]!r} must be letters, digits, '_', '-' or '.'")


def _validate(raw: dict[str, Any], source: _Source, *, repository: bool = False) -> None:
    """Check one file's keys, types and values against the schema; raise at the first problem."""
    if repository:
        for path in _leaves(raw):
            if personal := next((k for k in PERSONAL_KEYS if k in _prefixes(path)), None):
                raise source.error(
                    path,
                    f"{_table_or_key(personal)} is yours alone: set it in your own config "
                    f"({paths.config_file()}), not in a repository's {paths.REPO_CONFIG_NAME}",
                )
    for key, value in raw.items():
        if key in TOP_KEYS:
            _check_key(source, (key,), value, TOP_KEYS[key])
        elif key in SECTIONS:
            keys = SECTIONS[key]
            for sub, sub_value in _check_table(source, (key,), value).items():
                if sub not in keys:
                    raise _unknown(source, (key,), sub, list(keys))
                _check_key(source, (key, sub), sub_value, keys[sub])
        elif key == "agents":
            for name, agent in _check_table(source, (key,), value).items():
                _check_name(source, (key, name), "agent")
                for sub, sub_value in _check_table(source, (key, name), agent).items():
                    if sub not in AGENT_KEYS:
                        raise _unknown(source, (key, name), sub, list(AGENT_KEYS))
                    _check_key(source, (key, name, sub), sub_value, AGENT_KEYS[sub])
        elif key == "scripts":
            for name, command in _check_table(source, (key,), value).items():
                _check_name(source, (key, name), "script")
                _check_key(source, (key, name), command, SCRIPT_KEY)
        else:
            raise _unknown(source, (), key, TOP_LEVEL)


# ---------------------------------------------------------------- merging
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


def _build_agents(
    raw: Mapping[str, Any], layers: list[tuple[_Source, dict[str, Any]]]
) -> dict[str, AgentProfile]:
    """The built-in profiles with the files' tables merged onto them, key by key."""
    # What a new agent's table leaves out; the built-ins set every key themselves.
    new_agent = {name: key.default for name, key in AGENT_KEYS.items() if key.default is not None}
    agents = {}
    for name, table in _merge(builtin_tables(), raw).items():
        if not table.get("command"):
            source = _last_source(layers, "agents", name)
            assert source is not None  # built-ins all have a command
            raise source.error(("agents", name), f"agent {name!r} needs a command")
        agents[name] = AgentProfile.from_table(name, {**new_agent, **table})
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
        schema_key = key_at(path)
        if isinstance(value, dict) and not (schema_key is not None and schema_key.holds_table):
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
    ui_raw["notify"] = notify_channels(ui_raw.get("notify", UiConfig.notify))
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
