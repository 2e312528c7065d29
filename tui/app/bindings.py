"""The main screen's keys, shared with the help screen and the command palette.

Kept apart from the main screen so that those two read them without importing
it: the main screen imports the help screen, never the other way round.
"""

from __future__ import annotations

import unicodedata

from textual.binding import Binding, BindingType


def _session_binding(key: str, action: str, description: str, id: str, tooltip: str) -> Binding:
    return Binding(key, action, description, id=id, tooltip=tooltip)


# Without the kitty keyboard protocol Textual reads xterm's alt+digit (ESC 1) as the
# character macOS types for option+digit (WezTerm's convention): bind those as well.
_OPTION_DIGITS = "¡™£¢∞§¶•ª"


def _alt_digit(number: int) -> str:
    name = unicodedata.name(_OPTION_DIGITS[number - 1]).lower().replace(" ", "_")
    return f"alt+{number},{name.replace('-', '_')}"


ALWAYS_LEADER = "ctrl+right_square_bracket"
"""Leads whatever `ui.leader` and `[ui.keys]` say: the way out of a session that no
configuration can take away. Handled in `on_key`, not bound: a keymap that moves
the leader drops every binding on its old key (Textual's `apply_keymap`)."""

# fmt: off
PRIORITY_BINDINGS: list[BindingType] = [
    Binding("ctrl+right_square_bracket", "leader", "Leader", id="leader", priority=True,
            tooltip="Then a key: the sidebar's action from inside the terminal (twice: send it)"),
    *[Binding(_alt_digit(n), f"select_index({n})", f"Session {n}", id=f"session_{n}",
              priority=True, show=False, tooltip=f"Show session number {n}")
      for n in range(1, 10)],
    Binding("alt+left_square_bracket", "select_step(-1)", "Previous session",
            id="session_prev", priority=True, show=False, tooltip="Show the previous session"),
    Binding("alt+right_square_bracket", "select_step(1)", "Next session",
            id="session_next", priority=True, show=False, tooltip="Show the next session"),
]
SESSION_BINDINGS: list[BindingType] = [
    _session_binding("n", "new_session", "New", "new_session", "Start sessions on a new task"),
    _session_binding("d", "diff", "Diff", "diff", "What the session changed, side by side"),
    _session_binding("r", "run_script", "Run", "run_script", "Run a project script in the session"),
    _session_binding("s", "shell_tab", "Shell", "shell_tab", "Open a shell tab in the worktree"),
    _session_binding("a", "archive", "Archive", "archive",
                     "Save everything and remove the worktree (restorable)"),
    _session_binding("m", "merge", "Merge", "merge", "Merge the session's branch into its base"),
    _session_binding("x", "stop", "Stop", "stop", "Stop its programs (keeps the worktree)"),
    _session_binding("R", "resume", "Resume", "resume", "Restart a stopped or exited agent"),
    Binding("w", "why", "Why", id="why", show=False,
            tooltip="Why the session has its status: the signal, the rule, the history"),
    Binding("t", "next_tab", "Tab", id="next_tab", show=False,
            tooltip="Show the session's next tab"),
    Binding("left_square_bracket", "copy_mode", "Copy", id="copy_mode", show=False,
            tooltip="Select text with the keyboard (v select, y copy)"),
    Binding("A", "archived", "Archived", id="archived", show=False,
            tooltip="Archived sessions: restore or remove"),
    Binding("slash", "filter", "Filter", id="filter", tooltip="Filter the sessions by name"),
    Binding("question_mark", "help", "Help", id="help", tooltip="Every key, and what it does"),
    Binding("escape", "focus_sidebar", "Sidebar", id="focus_sidebar", show=False,
            tooltip="Back to the session list (clears the filter)"),
    Binding("q", "app.quit", "Quit", id="quit_sidebar", show=False,
            tooltip="Quit ptui (sessions keep running)"),
]
# fmt: on
