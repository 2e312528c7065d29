"""Pick a script to run in a session: `[scripts]` from your config and the repository.

Scripts from the repository's `.ptui.toml` (as on the session's base branch, via
`trust.show`) need trust first: picking one while that exact file is untrusted
opens the trust prompt, which shows the file. Dismisses with the script's name
(the caller runs it in its own tab with `session.run`), or None.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.app.context import AppContext, app_context
from tui.app.screens.trust import TrustScreen
from tui.app.widgets.footer import KeyFooter
from tui.errors import PtuiError
from tui.protocol import SessionInfo
from tui.protocol.messages import TrustShow


def script_label(name: str, command: str, origin: str, width: int) -> Content:
    """One row: name, where it comes from, the command's first line."""
    first = command.strip().splitlines()[0] if command.strip() else ""
    return Content.assemble(
        (f"{name:<{width}}", "bold"),
        "  ",
        (f"{origin:<15}", "$text-warning" if origin == "repo, untrusted" else "$text-muted"),
        "  ",
        first,
    )


class ScriptPicker(ModalScreen[str | None]):
    """The scripts `session` can run; Enter picks one (after trust, for a repo script)."""

    CSS_PATH = "scripts.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "pick", "Run", id="scripts_run", priority=True,
                tooltip="Run the highlighted script in its own tab"),
        Binding("escape", "cancel", "Cancel", id="scripts_cancel",
                tooltip="Close without running anything"),
    ]  # fmt: skip

    def __init__(self, session: SessionInfo) -> None:
        super().__init__()
        self.session = session
        self.scripts: dict[str, str] = {}
        self.repo_scripts: set[str] = set()
        self.trusted = True
        self.local_changes = False
        """The main checkout's `.ptui.toml` differs from the committed one (which counts)."""
        self.loaded = False

    @property
    def context(self) -> AppContext:
        return app_context(self)

    @property
    def options(self) -> OptionList:
        return self.query_one("#scripts-list", OptionList)

    def compose(self) -> ComposeResult:
        with Vertical(id="scripts"):
            yield Static(
                Content.assemble(
                    ("Run a script in ", "bold"), (str(self.session["id"]), "bold $text-primary")
                ),
                id="scripts-title",
            )
            yield OptionList(id="scripts-list")
            yield Static(id="scripts-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.options.focus()
        self.load()

    @work(exclusive=True, group="scripts-load")
    async def load(self) -> None:
        repo, base = self.session["repo"], self.session["base"]
        # The user's scripts and the repository's trusted ones, as the server runs them.
        scripts = dict((await self.context.repo_settings(repo, base))["scripts"])
        request = TrustShow(repo=repo, base=base)
        try:
            shown = await self.context.client.request(request)
        except PtuiError as exc:
            self._status(f"Repository scripts unavailable: {exc}", error=True)
            repo_scripts: dict[str, str] = {}
            self.trusted, self.local_changes = True, False
        else:
            repo_scripts = shown["scripts"]
            self.trusted, self.local_changes = shown["trusted"], bool(shown["local_changes"])
        scripts.update(repo_scripts)
        self.scripts = dict(sorted(scripts.items()))
        self.repo_scripts = set(repo_scripts)
        self.show()

    def show(self) -> None:
        width = max([6, *(len(n) for n in self.scripts)])
        repo_origin = "repo" if self.trusted else "repo, untrusted"
        self.options.set_options(
            Option(
                script_label(
                    name,
                    command,
                    repo_origin if name in self.repo_scripts else "your config",
                    width,
                ),
                id=name,
            )
            for name, command in self.scripts.items()
        )
        if self.scripts:
            names = list(self.scripts)
            self.options.highlighted = names.index("test") if "test" in names else 0
            if not self.trusted:
                self._status("Repository scripts ask for trust first (you see the file).")
            else:
                self._status("Each script runs in its own tab of the session.")
        elif self.local_changes:
            base = self.session["base"]
            self._status(
                f"No scripts on {base}: your .ptui.toml has changes not committed there, "
                "and ptui reads only the committed file (`ptui trust` shows the difference)."
            )
        else:
            self._status("No scripts: add a [scripts] table to .ptui.toml or your config.")
        self.loaded = True

    def _status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#scripts-status", Static)
        status.update(Content.styled(text, "$text-error" if error else "$text-muted"))

    @on(OptionList.OptionSelected, "#scripts-list")
    def action_pick(self) -> None:
        index = self.options.highlighted
        if index is None or not self.loaded:
            return
        name = self.options.get_option_at_index(index).id
        if name is None:
            return
        if name in self.repo_scripts and not self.trusted:
            repo, base = str(self.session["repo"]), str(self.session["base"])

            def after_trust(trusted: bool | None) -> None:
                if trusted:
                    self.dismiss(name)
                else:
                    self._status("Not trusted: repository scripts stay off.", error=True)

            self.app.push_screen(TrustScreen(repo, base), after_trust)
            return
        self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)
