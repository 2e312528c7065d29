"""The config schema: every key ptui reads, each with its check, its meaning and its default.

One `Key` per key, grouped the way a file groups them: `TOP_KEYS` (the top level),
`SECTIONS` ([git], [terminal], [ui], [server]), `AGENT_KEYS` (`[agents.<name>]`) and
`SCRIPT_KEY` (`[scripts]`, names the user picks). `KEYS` is all of them by dotted
path. `tui.config.load` validates each file against these; a test holds
`config.example.toml` to them, so the example documents exactly this schema.

A check returns what is wrong with a value ("must be an integer"), or None; the
loader puts the file, line and key in front of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tui.config.model import PORTS_PER_SESSION, Config
from tui.patterns import PatternError, compile_patterns
from tui.term.keys import is_key_name, normalize_key

NOTIFY_CHANNELS = ("toast", "bell", "osc9", "osc777", "desktop")
"""What `ui.notify` lists: how a session that needs you is announced (`tui.app.notify`)."""
NOTIFY_WORDS: Mapping[str, tuple[str, ...]] = {
    "toast": ("toast",),
    "bell": ("toast", "bell"),
    "osc9": ("toast", "osc9"),
    "none": (),
}
"""The single words `ui.notify` took before it was a list, and the channels each meant."""
PROMPT_MODES = ("arg", "stdin", "none")  # plus "flag:<flag>"
SESSION_STORES = ("", "claude", "codex", "opencode")
"""Agents whose conversation files ptui knows how to read (tui.server.agent_sessions)."""
SESSION_PLACEHOLDER = "{session}"
HOOK_KINDS = ("", "claude", "codex")
"""Agents whose lifecycle hooks ptui can wire to `ptui hook` (tui.server.agent_hooks)."""

Check = Callable[[Any], str | None]
"""Returns what is wrong with a value ("must be ..."), or None if it is fine."""


@dataclass(frozen=True)
class Key:
    """One config key: how its value is checked, what it means, what it defaults to."""

    check: Check
    """What is wrong with a value, or None; the message follows the key's name."""
    doc: str
    """What the key does, in a sentence (config.example.toml says it at length)."""
    default: Any = None
    """The value used when no file sets the key, spelled as TOML would; None when there
    is none (TOML has no null): an agent's command, a script."""
    each: Check | None = None
    """For a table of the user's names (`[ui.keys]`): the check of each entry."""
    holds_table: bool = False
    """The value is one table of the user's own names (`ui.keys`, an agent's `env`),
    not a table of ptui's keys: trust and personal-key rules treat it as one value."""


# ---------------------------------------------------------------- checks
def _is_str(v: Any) -> str | None:
    return None if isinstance(v, str) else "must be a string"


def _is_bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


def _continue_text(v: Any) -> str | None:
    if not isinstance(v, str):
        return "must be a string"
    if not v.strip() or len(v) > 200 or any(c < " " for c in v):
        return "must be 1 to 200 characters of text, without control characters"
    return None


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
        return str(exc)  # "[i] ...": the loader puts the key in front
    return None


def _prompt(v: Any) -> str | None:
    if v in PROMPT_MODES or (isinstance(v, str) and re.fullmatch(r"flag:-\S+", v)):
        return None
    return 'must be "arg", "flag:--option", "stdin" or "none"'


def _session_argv(v: Any) -> str | None:
    if problem := _str_list(v):
        return problem
    # Only a whole element is replaced: an id glued into a longer word ("--id={session}")
    # would be a second, unchecked way for it to become something else.
    if any(SESSION_PLACEHOLDER in x and x != SESSION_PLACEHOLDER for x in v):
        return f'must use "{SESSION_PLACEHOLDER}" as a whole element'
    if v and SESSION_PLACEHOLDER not in v:
        return f'must hold "{SESSION_PLACEHOLDER}" (or be [])'
    return None


def _notify(v: Any) -> str | None:
    if isinstance(v, str) and v in NOTIFY_WORDS:
        return None
    channels = ", ".join(f'"{c}"' for c in NOTIFY_CHANNELS)
    usage = f"must be a list of {channels} (or [] for none)"
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        return usage
    unknown = [x for x in v if x not in NOTIFY_CHANNELS]
    return f"{usage}; {unknown[0]!r} is not one" if unknown else None


def notify_channels(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The channels a checked `ui.notify` value means, each once, in the order given."""
    if isinstance(value, str):
        return NOTIFY_WORDS[value]
    return tuple(dict.fromkeys(value))


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


# ---------------------------------------------------------------- the schema
_DEFAULTS = Config()  # the defaults ptui runs with; the schema repeats none of them

TOP_KEYS: Mapping[str, Key] = {
    "default_agent": Key(
        _is_str,
        "Agent a new session runs when none is named (one of [agents.*]).",
        _DEFAULTS.default_agent,
    ),
}

SECTIONS: Mapping[str, Mapping[str, Key]] = {
    "git": {
        "branch_prefix": Key(
            _is_str,
            "Prefix of every session branch: session fix-login works on ptui/fix-login.",
            _DEFAULTS.git.branch_prefix,
        ),
        "worktrees_dir": Key(
            _is_str,
            'Directory holding the session worktrees; "" means '
            "<repo parent>/<repo name>.ptui-worktrees.",
            _DEFAULTS.git.worktrees_dir,
        ),
        "default_base": Key(
            _is_str,
            'Branch, tag or commit new sessions start from; "" means the checked-out branch.',
            _DEFAULTS.git.default_base,
        ),
    },
    "terminal": {
        "scrollback": Key(
            _int_range(0, 1_000_000),
            "Lines of scrollback kept for each session.",
            _DEFAULTS.terminal.scrollback,
        ),
        "sync_timeout_ms": Key(
            _int_range(0, 10_000),
            "Longest hold (ms) of a synchronized-output frame before it is drawn anyway.",
            _DEFAULTS.terminal.sync_timeout_ms,
        ),
    },
    "ui": {
        "theme": Key(
            _is_str,
            "Colour theme: one of ptui's themes/ or a file in <config dir>/themes.",
            _DEFAULTS.ui.theme,
        ),
        "leader": Key(
            _leader,
            "Key that starts a ptui command while a session has the keyboard.",
            # Shown as the user writes it; loading spells it as Textual does.
            "ctrl+]",
        ),
        "notify": Key(
            _notify,
            "How a session that needs you (waiting, done, at its usage limit) is announced: "
            "a list of " + ", ".join(NOTIFY_CHANNELS) + " ([] for none; the older single "
            'words "toast", "bell", "osc9", "none" still work).',
            list(_DEFAULTS.ui.notify),
        ),
        "keys": Key(
            _str_map,
            "Remaps of ptui's own bindings: binding id = key or comma-separated keys.",
            dict(_DEFAULTS.ui.keys),
            each=_key_names,
            holds_table=True,
        ),
    },
    "server": {
        "port_base": Key(
            _int_range(1024, 65535 - PORTS_PER_SESSION),
            f"First port handed to sessions; each gets a block of {PORTS_PER_SESSION}.",
            _DEFAULTS.server.port_base,
        ),
        "log_max_bytes": Key(
            _int_range(1024, 2**40),
            "Size in bytes at which the server log is rotated.",
            _DEFAULTS.server.log_max_bytes,
        ),
    },
}

# An agent table's defaults are those of a new agent; the built-in ones set every key
# (tui.config.agents.BUILTIN_AGENTS).
AGENT_KEYS: Mapping[str, Key] = {
    "command": Key(_str_list, "Argument vector that starts the agent (never a shell string)."),
    "prompt": Key(
        _prompt,
        'How the task is passed: "arg", "flag:--option", "stdin" (typed) or "none".',
        "arg",
    ),
    "resume": Key(
        _str_list,
        "Argument vector that resumes the agent's last conversation; [] reruns command.",
        [],
    ),
    "busy_patterns": Key(
        _regex_list,
        "Your regexes (RE2), searched in each changed screen row: found, the agent works. "
        "A layer above the rules ptui ships for the agent's screens.",
        [],
    ),
    "waiting_patterns": Key(
        _regex_list, "Your regexes (RE2) found while the agent waits for you (win over busy).", []
    ),
    "env": Key(_str_map, "Extra environment variables for the agent.", {}, holds_table=True),
    "session_id_args": Key(
        _session_argv,
        'Arguments added to command with a fresh id for "{session}", naming the '
        "conversation so resume can continue it; [] lets the agent choose.",
        [],
    ),
    "resume_session": Key(
        _session_argv,
        'Argument vector that resumes this session\'s own conversation ("{session}": '
        "its id); [] or no known id uses resume.",
        [],
    ),
    "session_store": Key(
        _choice(*SESSION_STORES),
        "Whose conversation files tell ptui the id: "
        + ", ".join(repr(s) for s in SESSION_STORES)
        + ' ("" reads none).',
        "",
    ),
    "auto_continue": Key(
        _is_bool,
        "After a usage limit whose reset time the agent showed, type continue_text "
        "once that time has passed (logged).",
        False,
    ),
    "continue_text": Key(
        _continue_text, "What auto_continue types into the agent (then Enter).", "continue"
    ),
    "hooks": Key(
        _choice(*HOOK_KINDS),
        "Whose lifecycle hooks ptui wires at start to report the conversation id and "
        "status (`ptui hook`): " + ", ".join(repr(k) for k in HOOK_KINDS) + ' ("" none).',
        "",
    ),
}

SCRIPT_KEY = Key(
    _is_str,
    'Shell command run in a session\'s worktree: "setup" when a session is created, '
    "any other name on demand.",
)

TOP_LEVEL = [*TOP_KEYS, *SECTIONS, "agents", "scripts"]
"""Every name allowed at the top level of a file."""

KEYS: Mapping[str, Key] = {
    **TOP_KEYS,
    **{
        f"{section}.{name}": key for section, keys in SECTIONS.items() for name, key in keys.items()
    },
    **{f"agents.<name>.{name}": key for name, key in AGENT_KEYS.items()},
    "scripts.<name>": SCRIPT_KEY,
}
"""Every key by dotted path; a name the user picks is `<name>` (`agents.<name>.env`)."""


def schema_keys() -> list[str]:
    """Every documented key as a dotted path (`agents.<name>.command`, `scripts.<name>`)."""
    return list(KEYS)


def key_at(path: tuple[str, ...]) -> Key | None:
    """The Key a concrete path in a file names (`("agents", "codex", "env")`), if any."""
    if len(path) == 3 and path[0] == "agents":
        return AGENT_KEYS.get(path[2])
    if len(path) == 2 and path[0] == "scripts":
        return SCRIPT_KEY
    return KEYS.get(".".join(path))
