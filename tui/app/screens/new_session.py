"""`n`: start sessions on a new task — task text, agent, base branch, name, count.

Problems are shown under the field that has them as you type or when you press
create; the server's own refusal (a taken name, an untrusted agent) is shown at
the bottom and the dialog stays open. Dismisses with the created sessions' info.

Branches come from the server's `repo.branches`; a server without it gets them
from `git for-each-ref` run locally in a worker (only when the server is local:
a remote repository is not on this machine; then the base is free text).
The name preview uses `tui.git.names.slugify_task`, the server's own slug rule:
pure string logic, imported rather than copied so the preview cannot drift.
"""

from __future__ import annotations

import asyncio
import subprocess
from typing import ClassVar, TypedDict

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.fuzzy import Matcher
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from tui.app.context import AppContext, app_context
from tui.errors import PtuiError
from tui.git.names import NAME_MAX, slugify_task, validate_name
from tui.protocol import SessionInfo
from tui.protocol.messages import RepoBranches, SessionCreate, Settings

MAX_COUNT = 50
_FALLBACK_NAME = "session"  # the server's name for a task with no usable slug


def preview_names(task: str, name: str, count: int, taken: set[str]) -> list[str]:
    """The session names the server will pick (given the names already in use)."""
    if name:
        return [name] if count == 1 else [f"{name}-{i + 1}" for i in range(count)]
    try:
        stem = slugify_task(task)
    except PtuiError:  # git.names' GitError: nothing usable in the task
        stem = _FALLBACK_NAME
    names: list[str] = []
    number = 1
    while len(names) < count and number < 1000:
        candidate = stem if number == 1 else f"{stem}-{number}"
        if candidate not in taken and len(candidate) <= NAME_MAX:
            names.append(candidate)
        number += 1
    return names


def agent_options(settings: Settings) -> list[tuple[str, str]]:
    """The agent picker's (label, name) pairs: one not on the server's PATH says so."""
    return [
        (a["name"] if a["installed"] else f"{a['name']}  (not installed)", a["name"])
        for a in settings["agents"]
    ]


def local_branches(repo: str) -> tuple[str | None, list[str]]:
    """(current branch, local branches with it first), read with git itself."""
    refs = subprocess.run(
        ["git", "-C", repo, "for-each-ref", "refs/heads", "--format=%(refname:short)"],
        capture_output=True, text=True, timeout=10, check=True,
    ).stdout.split()  # fmt: skip
    head = subprocess.run(
        ["git", "-C", repo, "symbolic-ref", "--quiet", "--short", "HEAD"],
        capture_output=True, text=True, timeout=10,
    ).stdout.strip()  # fmt: skip
    current = head or None
    if current in refs:
        refs.remove(current)
        refs.insert(0, current)
    return current, refs


class FormValues(TypedDict):
    """What the form holds, trimmed (`count` is -1 when it is no number)."""

    task: str
    agent: str
    base: str
    name: str
    count: int


class NewSessionScreen(ModalScreen[list[SessionInfo] | None]):
    """The new-session form."""

    CSS_PATH = "new_session.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "create", "Create", id="create_session",
                tooltip="Create the sessions and start their agents"),
        Binding("escape", "cancel", "Cancel", id="cancel_new_session",
                tooltip="Close without creating anything"),
        Binding("down", "branch_list", "Branches", id="branch_list", show=False,
                tooltip="From the base branch field: into the list of matching branches"),
    ]  # fmt: skip

    def __init__(self, repo: str, size: Size | None = None) -> None:
        super().__init__()
        self.repo = repo
        self.view_size = size
        self.branches: list[str] | None = None
        self.current_branch: str | None = None
        self._creating = False
        self.settings: Settings = self.context.known_settings(repo)
        """Agents, defaults and scripts for this repository: the server's once they
        arrive (`load_settings`), the user's own file's until then."""

    @property
    def context(self) -> AppContext:
        return app_context(self)

    def compose(self) -> ComposeResult:
        settings = self.settings
        with Vertical(id="new-session"):
            if self.context.host is not None:
                # Remote: the repository is a path on the server's machine.
                yield Label(f"Repository on {self.context.host}", classes="field-label")
                yield Input(self.repo, placeholder="/path/to/repo", id="repo")
                yield Static("", id="repo-error", classes="field-error")
            yield Label("Task — what should the agent do?", classes="field-label")
            yield TextArea(id="task", soft_wrap=True, show_line_numbers=False)
            yield Static("", id="task-error", classes="field-error")
            with Horizontal(id="row-agent"):
                with Vertical(classes="column"):
                    yield Label("Agent", classes="field-label")
                    yield Select(agent_options(settings), value=settings["default_agent"],
                                 allow_blank=False, id="agent")  # fmt: skip
                    yield Static("", id="agent-error", classes="field-error")
                with Vertical(classes="column narrow"):
                    yield Label("Count", classes="field-label")
                    yield Input("1", type="integer", id="count")
                    yield Static("", id="count-error", classes="field-error")
            yield Label("Base branch", classes="field-label")
            yield Input(settings["default_base"], placeholder="current branch", id="base")
            yield OptionList(id="branch-list")
            yield Static("", id="base-error", classes="field-error")
            yield Label("Name (optional)", classes="field-label")
            yield Input(placeholder="from the task", id="name")
            yield Static("", id="name-error", classes="field-error")
            yield Static("", id="preview")
            yield Static("", id="form-error", classes="field-error")
            with Horizontal(id="buttons"):
                yield Button("Create  ctrl+s", variant="primary", id="create")
                yield Button("Cancel  esc", id="cancel")

    def on_mount(self) -> None:
        where = f"{self.context.host}" if self.context.host is not None else self.repo
        self.query_one("#new-session").border_title = f"New session in {where}"
        self.query_one("#task", TextArea).focus()
        self.query_one("#branch-list").display = False
        for label in self.query(".field-error"):
            label.display = False
        self.load_branches()
        self.load_settings()
        self.refresh_preview()

    # ---------------------------------------------------------- settings
    @work(exclusive=True, group="settings")
    async def load_settings(self) -> None:
        self.apply_settings(await self.context.repo_settings(self.repo))

    def apply_settings(self, settings: Settings) -> None:
        """Offer `settings`' agents and defaults; a choice the user made is kept."""
        old, self.settings = self.settings, settings
        if settings == old:
            return
        agent = self.query_one("#agent", Select)
        chosen = agent.value
        names = {a["name"] for a in settings["agents"]}
        agent.set_options(agent_options(settings))
        if chosen == old["default_agent"] or chosen not in names:
            chosen = settings["default_agent"]
        if chosen in names:
            agent.value = chosen
        base = self.query_one("#base", Input)
        if base.value.strip() == old["default_base"]:
            base.value = settings["default_base"]
        self.refresh_preview()

    # ---------------------------------------------------------- branches
    @work(exclusive=True, group="branches")
    async def load_branches(self) -> None:
        if not self.repo:
            return
        try:
            answer = await self.context.request_optional(RepoBranches(repo=self.repo))
            if answer is not None:
                current, names = answer["current"], answer["branches"]
            elif self.context.host is None:
                current, names = await asyncio.to_thread(local_branches, self.repo)
            else:
                return
        except (PtuiError, OSError, subprocess.SubprocessError):
            return
        self.current_branch = current
        self.branches = [str(n) for n in names]
        base = self.query_one("#base", Input)
        if current:
            base.placeholder = f"current branch ({current})"
        self.filter_branches(base.value)
        self.refresh_preview()

    def filter_branches(self, text: str) -> None:
        listing = self.query_one("#branch-list", OptionList)
        if self.branches is None:
            return
        if text:
            matcher = Matcher(text)
            scored = [(matcher.match(b), b) for b in self.branches]
            matches = [b for score, b in sorted(scored, key=lambda s: -s[0]) if score > 0]
        else:
            matches = list(self.branches)
        listing.clear_options()
        listing.add_options([Option(b, id=None) for b in matches[:50]])
        listing.display = bool(matches) and self.query_one("#base", Input).has_focus

    @on(Input.Submitted, "#repo")
    def repo_chosen(self, event: Input.Submitted) -> None:
        self.repo = event.value.strip()
        self.branches = None
        self.load_branches()
        self.load_settings()
        self.query_one("#task", TextArea).focus()

    @on(Input.Changed, "#base")
    def base_changed(self, event: Input.Changed) -> None:
        self.filter_branches(event.value)

    def on_descendant_focus(self) -> None:
        focused = self.focused
        listing = self.query_one("#branch-list", OptionList)
        listing.display = bool(listing.option_count) and focused in (
            self.query_one("#base"),
            listing,
        )

    def action_branch_list(self) -> None:
        listing = self.query_one("#branch-list", OptionList)
        if self.focused is self.query_one("#base") and listing.display:
            listing.focus()
            listing.highlighted = 0

    @on(Input.Submitted, "#base")
    def base_submitted(self) -> None:
        """Enter in the base field takes the best match when the text is no branch."""
        base = self.query_one("#base", Input)
        listing = self.query_one("#branch-list", OptionList)
        if self.branches and base.value not in self.branches and listing.option_count:
            base.value = str(listing.get_option_at_index(0).prompt)
        self.query_one("#name", Input).focus()

    @on(OptionList.OptionSelected, "#branch-list")
    def branch_chosen(self, event: OptionList.OptionSelected) -> None:
        base = self.query_one("#base", Input)
        base.value = str(event.option.prompt)
        self.query_one("#name", Input).focus()

    # ---------------------------------------------------------- checking
    def values(self) -> FormValues:
        count_text = self.query_one("#count", Input).value.strip()
        agent = self.query_one("#agent", Select).value
        return {
            "task": self.query_one("#task", TextArea).text.strip(),
            "agent": agent if isinstance(agent, str) else "",
            "base": self.query_one("#base", Input).value.strip(),
            "name": self.query_one("#name", Input).value.strip(),
            "count": int(count_text) if count_text.isdigit() else -1,
        }

    def problems(self) -> dict[str, str]:
        """What is wrong, by field id ("task", "name", "count", "base", "agent")."""
        v = self.values()
        found: dict[str, str] = {}
        if self.context.host is not None and not self.query_one("#repo", Input).value.strip():
            found["repo"] = "Which repository on the server?"
        if not v["task"] and not v["name"]:
            found["task"] = "Describe the task (or give the session a name)."
        if v["name"]:
            try:
                validate_name(v["name"])
            except PtuiError as exc:  # git.names' GitError says what is wrong
                found["name"] = str(exc)
        if not 1 <= v["count"] <= MAX_COUNT:
            found["count"] = f"1 to {MAX_COUNT}"
        if v["base"] and self.branches is not None and v["base"] not in self.branches:
            found["base"] = f"No branch {v['base']!r} here; pick one from the list."
        if v["agent"] not in {a["name"] for a in self.settings["agents"]}:
            found["agent"] = "Pick an agent."
        return found

    def refresh_preview(self) -> None:
        v = self.values()
        taken = {s["name"] for s in self.context.sessions.values() if not s["archived"]}
        prefix = self.settings["branch_prefix"]
        taken |= {b[len(prefix) :] for b in self.branches or [] if b.startswith(prefix)}
        names = preview_names(v["task"], v["name"], max(1, min(v["count"], MAX_COUNT)), taken)
        if not v["task"] and not v["name"]:
            names = []
        shown = ", ".join(names[:3]) + (f", … ({len(names)} sessions)" if len(names) > 3 else "")
        self.query_one("#name", Input).placeholder = names[0] if names else "from the task"
        base = v["base"] or self.current_branch or "the current branch"
        agent = next((a for a in self.settings["agents"] if a["name"] == v["agent"]), None)
        note = ""
        if agent is not None and not agent["installed"]:
            where = "here" if self.context.host is None else f"on {self.context.host}"
            note = f"   ({agent['command']} is not installed {where})"
        if not names:
            self.query_one("#preview", Static).update(f"→ new sessions from {base}{note}")
            return
        branch = f"{prefix}{names[0]}" + (" …" if len(names) > 1 else "")
        self.query_one("#preview", Static).update(f"→ {shown}   on {branch} from {base}{note}")

    def fields(self) -> tuple[str, ...]:
        extra = ("repo",) if self.context.host is not None else ()
        return (*extra, "task", "name", "count", "base", "agent")

    def show_problems(self, found: dict[str, str]) -> None:
        for field in self.fields():
            self.set_error(field, found.get(field, ""))

    def set_error(self, field: str, text: str) -> None:
        """Show (or clear) the one-line problem under a field."""
        label = self.query_one(f"#{field}-error", Static)
        label.update(text)
        label.display = bool(text)
        self.query_one(f"#{field}").set_class(bool(text), "-invalid")

    @on(TextArea.Changed)
    @on(Input.Changed)
    @on(Select.Changed)
    def changed(self) -> None:
        self.refresh_preview()
        # Clear errors that were fixed; new ones wait for "create".
        found = self.problems()
        for field in self.fields():
            if field not in found:
                self.set_error(field, "")
        self.set_status("")

    # ----------------------------------------------------------- actions
    @on(Button.Pressed, "#create")
    def action_create(self) -> None:
        found = self.problems()
        self.show_problems(found)
        if found or self._creating:
            return
        if self.context.host is not None:
            self.repo = self.query_one("#repo", Input).value.strip()
        self.create()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if not self._creating:
            self.dismiss(None)

    def set_status(self, text: str) -> None:
        """The line above the buttons: progress, or the server's refusal."""
        status = self.query_one("#form-error", Static)
        status.update(text)
        status.display = bool(text)

    @work(exclusive=True, group="create")
    async def create(self) -> None:
        self._creating = True
        self.set_status("Creating…")
        # The server's defaults first (a form sent at once must not start the user
        # file's default agent where the repository names another).
        self.apply_settings(await self.context.repo_settings(self.repo))
        if found := self.problems():
            self._creating = False
            self.set_status("")
            self.show_problems(found)
            return
        v = self.values()
        cols, rows = self.view_size or Size(120, 36)
        try:
            sessions = await self.context.client.request(SessionCreate(
                task=v["task"], repo=self.repo, agent=v["agent"], base=v["base"] or None,
                name=v["name"] or None, count=v["count"], cols=max(cols, 20), rows=max(rows, 5),
            ))  # fmt: skip
        except PtuiError as exc:  # a refusal, or an answer that is no list of sessions
            self.set_status(str(exc))
            return
        finally:
            self._creating = False
        self.dismiss(sessions)
