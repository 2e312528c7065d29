"""Build the synthetic recordings of the status corpus from its real ones.

Screens that cannot be reached offline (usage limits, permission prompts mid-task) are
spliced onto a real recording: its events up to a busy moment are kept as they are,
then the agent's own text, taken from its published source or installed bundle (cited
in each header's "how"), is drawn over the rows it would occupy. Run by hand after
changing a real recording; the output is committed, so CI never runs this::

    python tests/status/synthesize.py
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from record import read_cast, replay

from tui.term.emulator import Emulator

CORPUS = Path(__file__).parent / "corpus"
RESET = "\x1b[0m"
SGR = re.compile(r"\x1b\[[0-9;]*m")
BOLD = "\x1b[1m"
DIM = "\x1b[2m"


@dataclass
class Splice:
    """A real recording cut at `cut`, with synthetic events appended after it."""

    source: str
    cut: float
    header: dict[str, Any] = field(default_factory=dict)
    events: list[list[Any]] = field(default_factory=list)
    screen: Emulator | None = None

    def __post_init__(self) -> None:
        path = CORPUS / self.source
        self.header, events = read_cast(path)
        self.events = [event for event in events if event[0] <= self.cut]
        for stamp, _event, emulator in replay(path):
            if stamp > self.cut:
                break
            self.screen = emulator
        self.now = self.cut

    def row(self, text: str) -> int:
        """The screen row (0-based) at the cut that holds `text`."""
        assert self.screen is not None
        for y, line in enumerate(self.screen.render_text().splitlines()):
            if text in line:
                return y
        raise LookupError(f"{text!r} is not on the screen of {self.source} at {self.cut}")

    @property
    def cols(self) -> int:
        return int(self.header["width"])

    @property
    def rows(self) -> int:
        return int(self.header["height"])

    def out(self, after: float, data: str) -> float:
        self.now = round(self.now + after, 3)
        self.events.append([self.now, "o", data])
        return self.now

    def draw(self, after: float, rows: dict[int, str], title: str | None = None) -> float:
        """One synchronized frame: each row erased and redrawn, and the title."""
        parts = ["\x1b[?2026h\x1b[?25l"]
        if title is not None:
            parts.append(f"\x1b]0;{title}\x07")
        for y, text in sorted(rows.items()):
            parts.append(f"\x1b[{y + 1};1H\x1b[2K{text}{RESET}")
        parts.append("\x1b[?2026l")
        return self.out(after, "".join(parts))

    def clear_below(self, first: int) -> dict[int, str]:
        return {y: "" for y in range(first, self.rows)}

    def place(self, top: int, lines: list[str]) -> dict[int, str]:
        """Rows from `top` down cleared and `lines` drawn there, moved up to fit the screen
        (as the agents' bottom panes grow over the history)."""
        top = max(0, min(top, self.rows - len(lines)))
        rows = self.clear_below(top)
        rows.update({top + i: line for i, line in enumerate(lines)})
        return rows

    def write(self, name: str, agent: str, how: str) -> None:
        self.events.append([round(self.now + 8.0, 3), "m", "end"])
        header = dict(self.header)
        header["ptui"] = {**header["ptui"], "synthetic": True, "how": how}
        path = CORPUS / agent / f"{name}.cast"
        with path.open("w", encoding="utf-8") as handle:
            handle.write(json.dumps(header, ensure_ascii=False) + "\n")
            for event in self.events:
                handle.write(json.dumps(event, ensure_ascii=False) + "\n")
        print(f"wrote {path}: decisive frame at {self.decisive}")

    decisive: float = 0.0


def box(width: int, lines: list[str], colour: str = "") -> list[str]:
    """A rounded box like Ink's `borderStyle: "round"`, one line per entry."""
    inner = width - 2
    out = [f"{colour}╭{'─' * inner}╮{RESET}"]
    for line in lines:
        visible = len(SGR.sub("", line))
        pad = " " * max(0, inner - visible - 1)
        out.append(f"{colour}│{RESET} {line}{RESET}{pad}{colour}│{RESET}")
    out.append(f"{colour}╰{'─' * inner}╯{RESET}")
    return out


COMMAND = 'python3 -c "from calc import add; print(add(2, 3))"'


def claude_limit() -> None:
    s = Splice("claude/task.cast", cut=30.0)
    busy = s.row("Unable to connect to API")
    footer = s.row("esc to interrupt")
    s.decisive = s.draw(
        0.4,
        {
            busy: "  ⎿  \x1b[38;2;255;107;128m"
            "You've hit your session limit · resets 3pm (Europe/London)",
            footer: "  ? for shortcuts · ← for agents",
        },
        title="✳ Claude Code",
    )
    s.write(
        "session-limit",
        "claude",
        "SYNTHETIC: claude/task.cast up to 30.0 s (busy, retrying), then the retry line replaced "
        "by the limit message and the footer by the idle hint. Text from Claude Code 2.1.197's "
        "bundle (installed @anthropic-ai/claude-code-linux-x64/claude: hJ() builds \"You've hit "
        "your \" + 'session limit' for rateLimitType five_hour + ' · resets <time>') and "
        "anthropics/claude-code issue #74079 'You've hit your session limit · resets 12:50am "
        "(America/Los_Angeles)'; older versions said '5-hour limit reached ∙ resets 5am' (#6392)",
    )


def claude_permission() -> None:
    s = Splice("claude/task.cast", cut=26.0)
    busy = s.row("Unable to connect to API")
    rule = "─" * s.cols
    lines = [
        f"\x1b[38;2;215;119;87m●{RESET} {BOLD}Bash{RESET}({COMMAND})",
        "",
        f"\x1b[38;2;177;185;249m{rule}",
        f" {BOLD}Bash command",
        "",
        f"   {COMMAND}",
        f"   {DIM}Check that calc.add works before adding subtract",
        "",
        " Do you want to proceed?",
        " \x1b[38;2;177;185;249m❯ 1. Yes",
        "   2. Yes, and don't ask again for python3 commands in /home/demo-claude/project",
        "   3. No, and tell Claude what to do differently (esc)",
        "",
        f" {DIM}Esc to cancel",
    ]
    rows = s.place(busy, lines)
    s.decisive = s.draw(0.5, rows, title="✳ Claude Code")
    s.write(
        "permission-bash",
        "claude",
        "SYNTHETIC: claude/task.cast up to 26.0 s (busy), then a Bash permission prompt drawn "
        "below the prompt. Strings from Claude Code 2.1.197's installed bundle: 'Bash command', "
        "'Do you want to proceed?', \"Yes, and don't ask again for \", 'tell Claude what to do "
        "differently'; layout after the prompts quoted in anthropics/claude-code issues. The "
        "title '✳ Claude Code' (no spinner) is the real idle title; not checked for this prompt",
    )


def codex_limit() -> None:
    s = Splice("codex/task.cast", cut=30.0)
    working = s.row("esc to interrupt")
    text = (
        "You've hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro), visit "
        "https://chatgpt.com/settings/usage to purchase more credits or try again at 3:45 PM."
    )
    width = s.cols - 2
    first, rest = text[:width], text[width:]
    cut = first.rfind(" ")
    first, rest = text[:cut], text[cut + 1 :]
    s.decisive = s.draw(
        0.4,
        {
            working: f"\x1b[31m■ {first}",
            working + 1: f"\x1b[31m  {rest}",
        },
        title="Add a subtract function to calc.py | project",
    )
    s.write(
        "usage-limit",
        "codex",
        "SYNTHETIC: codex/task.cast up to 30.0 s (busy), then the status line replaced by the "
        "usage-limit error and the title spinner stopped. Text from the installed codex 0.171.0 "
        "binary's strings (\"You've hit your usage limit. Upgrade to Pro "
        "(https://chatgpt.com/explore/pro), visit https://chatgpt.com/settings/usage to purchase "
        "more credits\" + ' or try again at ') and openai/codex core error.rs; the '■' error "
        "prefix as in the interrupted line of the real recording",
    )


def codex_approval() -> None:
    s = Splice("codex/task.cast", cut=27.0)
    working = s.row("esc to interrupt")
    lines = [
        "",
        f"  {BOLD}Would you like to run the following command?",
        "",
        f"  Reason: {DIM}\x1b[3mcheck that calc.add works before adding subtract",
        "",
        f"  $ {COMMAND}",
        "",
        "\x1b[1;36m› 1. Yes, proceed (y)",
        "  2. Yes, and don't ask again for commands that start with `python3 -c` (p)",
        f"  3. No, and tell Codex what to do differently {DIM}(esc)",
        "",
        f"  {DIM}Press enter to confirm or esc to cancel",
    ]
    rows = s.place(working, lines)
    s.decisive = s.draw(0.5, rows, title="[ ! ] Action Required")
    for i in range(8):
        s.draw(1.0, {}, title="[ . ] Action Required" if i % 2 == 0 else "[ ! ] Action Required")
    s.write(
        "approval-command",
        "codex",
        "SYNTHETIC: codex/task.cast up to 27.0 s (busy), then the exec approval overlay drawn "
        "in the bottom pane, layout from openai/codex "
        "codex-rs/tui/src/chatwidget/snapshots/"
        "codex_tui__chatwidget__tests__exec_approval_modal_exec.snap; window title alternating "
        "'[ ! ] Action Required' / '[ . ] Action Required' (both strings sit side by side in "
        "the installed codex 0.171.0 binary next to 'failed to set terminal title')",
    )


def gemini_limit() -> None:
    s = Splice("gemini/task.cast", cut=30.0)
    thinking = s.row("Thinking...")
    lines = box(
        s.cols,
        [
            "",
            "\x1b[33mUsage limit reached for all Pro models.",
            "Access resets at 4:12 PM UTC.",
            f"{BOLD}/stats{RESET} model for usage details",
            f"{BOLD}/model{RESET} to switch models.",
            "",
            "\x1b[32m● 1. Switch to gemini-3.5-flash",
            "  2. Stop",
            "",
        ],
        colour="\x1b[90m",
    )
    rows = s.place(thinking, lines)
    s.decisive = s.draw(0.4, rows)
    s.write(
        "usage-limit",
        "gemini",
        "SYNTHETIC: gemini/task.cast up to 30.0 s (busy), then ProQuotaDialog drawn over the "
        "composer. Text from the installed @google/gemini-cli 0.61.0 bundle "
        "(interactiveCli-*.js: 'Usage limit reached for ${usageLimitReachedModel}.', 'Access "
        "resets at ' + Intl 'h:mm AM TZ', '/stats model for usage details', '/model to switch "
        "models.', items 'Switch to ${fallbackModel}' / 'Stop'); the title is left at "
        "'✦  Working… (project)' because the dialog opens while the request is pending",
    )


def gemini_permission() -> None:
    s = Splice("gemini/task.cast", cut=30.0)
    thinking = s.row("Thinking...")
    lines = box(
        s.cols,
        [
            f"\x1b[33m?{RESET}  {BOLD}Shell{RESET} {COMMAND}",
            "",
            f"{COMMAND}",
            "",
            f"Allow execution of \x1b[1;33m[Shell]{RESET}?",
            "",
            "\x1b[32m● 1. Allow once",
            "  2. Allow for this session",
            "  3. No, suggest changes (esc)",
            "",
        ],
        colour="\x1b[33m",
    )
    rows = s.place(thinking, lines)
    title = "✋  Action Required (project)".ljust(80)
    s.decisive = s.draw(0.4, rows, title=title)
    s.write(
        "permission-shell",
        "gemini",
        "SYNTHETIC: gemini/task.cast up to 30.0 s (busy), then a shell tool confirmation drawn "
        "over the composer. Text from the installed @google/gemini-cli 0.61.0 bundle "
        "(interactiveCli-*.js ToolConfirmationMessage: 'Allow execution of' '[' Shell ']' '?', "
        "options 'Allow once' / 'Allow for this session' / 'No, suggest changes (esc)'); title "
        "'\\u270B  Action Required (<folder>)' padded to 80 as computeTerminalTitle builds it",
    )


def opencode_permission() -> None:
    s = Splice("opencode/task.cast", cut=33.0)
    bar = s.row("esc interrupt")
    rows = {
        bar - 3: f"  \x1b[33m┃{RESET}  \x1b[33m△{RESET} {BOLD}Permission required",
        bar - 2: f"  \x1b[33m┃{RESET}  → Bash {COMMAND}",
        bar - 1: f"  \x1b[33m┃{RESET}",
        bar: f"   \x1b[7m Allow once {RESET}   Allow always    Reject"
        f"{' ' * 40}{DIM}⇆ select  enter confirm",
    }
    s.decisive = s.draw(0.4, rows)
    s.write(
        "permission-bash",
        "opencode",
        "SYNTHETIC: opencode/task.cast up to 33.0 s (busy), then the permission prompt drawn in "
        "place of the input. Strings from the installed opencode 1.18.33 binary: title "
        "'Permission required' with the '\\u25B3' marker, options {once: 'Allow once', always: "
        "'Allow always', reject: 'Reject'}, escapeKey 'reject'; the row layout is approximate",
    )


BUILDERS: list[Callable[[], None]] = [
    claude_limit,
    claude_permission,
    codex_limit,
    codex_approval,
    gemini_limit,
    gemini_permission,
    opencode_permission,
]

if __name__ == "__main__":
    for build in BUILDERS:
        build()
