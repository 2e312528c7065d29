"""Every request and its answer, typed: one definition each, used by both sides.

A request is a frozen, keyword-only record whose fields are its params; `METHOD` names it and
`RESULT` is the type of its answer (a TypedDict, a list of them, or `bool`). The
server turns a frame's params into the request once (`decode`, a bad param is a
one-line `ShapeError`); a client builds the request, sends `params()` and checks
the answer once (`result`), so past the socket mypy sees every field.

Field rules, the same for every request: a param left out, or null, takes the
field's default; an empty string is left out too where the field has a default
(`tab: ""` is the agent's tab, `base: ""` is "no base given"). A field with no
default is required. Params the request does not define are ignored, so a newer
client may send more.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from typing import (
    ClassVar,
    Generic,
    NotRequired,
    Self,
    TypedDict,
    TypeVar,
    cast,
    dataclass_transform,
)

from tui.protocol.methods import Method
from tui.protocol.session_info import SessionInfo, decode_session_info
from tui.protocol.shapes import ShapeError, check

R = TypeVar("R", covariant=True)
"""The answer's type: covariant, so any request is a `Request[object]`."""

AGENT_TAB = "agent"
"""The tab every session has: its agent."""
_HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


class NoSessionGiven(ShapeError):
    """A session request without an `id` (answered as not-found, like a wrong one)."""


# ------------------------------------------------------------------ answers
class Hello(TypedDict):
    version: int
    ptui: str
    pid: int
    state: str
    """The server's state file: a local client checks it shares the user's HOME."""
    methods: NotRequired[list[str]]
    """What this server answers (a server before 0.9 leaves it out)."""


class ServerStatus(TypedDict):
    pid: int
    ptui: str
    uptime: float
    sessions: int
    live_sessions: int
    clients: int
    socket: str
    log: str
    state: str
    state_error: str


class Stopping(TypedDict):
    stopping: bool


class Subscribed(TypedDict):
    sessions: list[SessionInfo]


class Screen(TypedDict):
    id: str
    tab: str
    text: str
    cols: int
    rows: int
    cursor: list[int]
    title: str
    status: str
    alive: bool


class Scrollback(TypedDict):
    total: int
    start: int
    lines: list[list[list[object]]]
    """Each line's style runs (`tui.protocol.decode_runs`)."""


class Attached(TypedDict):
    id: str
    tab: str
    alive: bool


class TabOpened(TypedDict):
    id: str
    tab: str


class Committed(TypedDict):
    id: str
    commit: str


class Merged(TypedDict):
    id: str
    strategy: str
    base: str
    old_commit: str
    new_commit: str
    files: list[str]
    committed: str
    """The commit made of uncommitted work first; "" when there was none."""


class Removed(TypedDict):
    id: str
    removed: bool
    lost: list[str]
    """What was deleted without being merged (`--force`)."""


class Archived(SessionInfo):
    files_saved: int
    ignored_saved: int


_SAVED = ("files_saved", "ignored_saved")


class Problem(TypedDict):
    kind: str
    message: str
    session: str
    repo: str
    path: str
    fixed: str
    """What `--fix` did about it ("" when it was not repaired)."""


class DoctorReport(TypedDict):
    problems: list[Problem]
    remaining: list[Problem]
    notes: list[str]


class TrustShown(TypedDict):
    repo: str
    base: str
    text: str
    digest: str
    trusted: bool
    local_changes: str | None
    scripts: dict[str, str]
    ignored: list[str]
    problem: str | None


class DiffFile(TypedDict):
    path: str
    old_path: str | None
    status: str
    added: int
    removed: int
    binary: bool


class DiffListing(TypedDict):
    id: str
    scope: str
    merge_base: str
    files: list[DiffFile]
    added: int
    removed: int
    summary: str


class Diff(DiffListing):
    stat: str
    patch: NotRequired[str]
    """Left out when only the stat was asked for."""


class Hunk(TypedDict):
    header: str
    old_start: int
    old_lines: int
    new_start: int
    new_lines: int
    lines: list[tuple[str, int | None, int | None, str]]
    """`[origin, old_lineno, new_lineno, text]` per line."""


class DiffFileDetail(DiffFile):
    hunks: list[Hunk]
    truncated: bool


class ArchivePlan(TypedDict):
    id: str
    worktree: str
    ref_name: str
    branch: str
    uncommitted: list[str]
    untracked: list[str]
    ignored: list[str]
    empty_dirs: list[str]


class MergePreview(TypedDict):
    id: str
    base: str
    branch: str
    ahead: int
    behind: int
    files: list[str]
    conflicts: list[str]
    uncommitted: list[str]
    merged: bool
    strategies: dict[str, str | None]
    """`ff`, `merge`, `squash`: None when possible, else why not."""


class Summary(TypedDict):
    added: int
    removed: int
    files: int
    ahead: int
    behind: int
    dirty: int
    overlaps: list[str]
    """Other sessions (ids) that change the same files."""
    error: NotRequired[str]
    test_running: bool
    test_exit: int | None


class Branches(TypedDict):
    repo: str
    current: str | None
    branches: list[str]


class AgentChoice(TypedDict):
    name: str
    command: str
    """The program it runs (its command's first word)."""
    installed: bool
    """Found on the server's PATH, where the agent would run."""


class Settings(TypedDict):
    """What a new session in `repo` would get: the server's config for it (the user's
    file, and the repository's committed `.ptui.toml` as far as it is trusted)."""

    repo: str
    default_agent: str
    agents: list[AgentChoice]
    branch_prefix: str
    default_base: str
    """"" for the repository's current branch."""
    scripts: dict[str, str]


class TestFailureSent(TypedDict):
    id: str
    tab: str
    lines: int
    text: str


class StatusSignal(TypedDict):
    """One thing the status engine saw: a signal, or a screen rule's match."""

    at: float
    """When (Unix time)."""
    layer: str
    """process, activity, bell, title, osc, screen, user-rules, hook."""
    rule: str
    """The rule or signal's name (`claude.trust-folder`, `osc9`, `quiet` ...)."""
    detail: str
    """What was seen: the matched row's text, the title, the notification."""


class StatusTransition(StatusSignal):
    status: str
    """The activity it changed to."""


class StatusReport(TypedDict):
    """`ptui status ID --explain`: the status, the layer and rule that chose it,
    what they saw, and the last transitions (oldest first)."""

    id: str
    status: str
    reason: str
    """One line, as `SessionInfo.reason`."""
    chosen: StatusSignal | None
    """The signal that decided the status; None when the agent does not run."""
    evidence: list[StatusSignal]
    """The signals that hold now, every layer, highest confidence first."""
    transitions: list[StatusTransition]
    limited_until: str
    agent: str
    agent_version: str
    """The agent CLI's `--version` ("" when unknown)."""
    rules: str
    """Which shipped rules apply: `codex >=0.40` style, or "" for none."""


class Recording(TypedDict):
    """A tab's raw output being saved as asciicast v2 (`ptui record`)."""

    id: str
    tab: str
    path: str
    """Where on the server's machine ("" when not recording)."""
    recording: bool
    events: int
    """Output events written so far."""


# ----------------------------------------------------------------- requests
_REQUIRED = object()
"""A field's default when it has none."""

_HINTS: dict[type, dict[str, object]] = {}


def _hints(cls: type) -> dict[str, object]:
    """A request type's field hints, resolved once (get_type_hints is slow)."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


@dataclass_transform(kw_only_default=True, frozen_default=True)
class Request(Generic[R]):
    """One method's params; `result` checks its answer.

    A subclass declares its params as annotated fields, with or without a default,
    as a frozen, keyword-only dataclass would (`dataclass_transform` tells mypy so).
    It is built here rather than by `@dataclass`: generating six methods for each
    of 35 requests cost `ptui ls` about 30 ms of start-up.
    """

    METHOD: ClassVar[Method]
    RESULT: ClassVar[object]
    """The answer's type, as `shapes.check` reads it."""
    _FIELDS: ClassVar[tuple[tuple[str, object], ...]] = ()
    """(name, default or `_REQUIRED`) of every field, the base classes' first."""

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        fields = dict(cls._FIELDS)
        # This class's own annotations (not inherited ones); inspect would cost an import.
        own = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
        for name, annotation in own.items():
            if not str(annotation).startswith("ClassVar"):
                fields[name] = cls.__dict__.get(name, _REQUIRED)
        cls._FIELDS = tuple(fields.items())

    def __init__(self, **given: object) -> None:
        for name, default in self._FIELDS:
            if name in given:
                value = given.pop(name)
            elif default is _REQUIRED:
                raise TypeError(f"{type(self).__name__}() needs {name}")
            else:
                value = default
            object.__setattr__(self, name, value)
        if given:
            raise TypeError(f"{type(self).__name__}() has no {', '.join(sorted(given))}")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot set {name}")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name, _default in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._values() == self._values()

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name, _default in self._FIELDS)
        return f"{type(self).__name__}({shown})"

    def params(self) -> dict[str, object]:
        """The frame's params: every field that is not None."""
        return {
            name: value
            for name, _default in self._FIELDS
            if (value := getattr(self, name)) is not None
        }

    @classmethod
    def decode(cls, params: Mapping[str, object]) -> Self:
        """The request a frame's params describe; ShapeError naming the bad param."""
        hints = _hints(cls)
        given: dict[str, object] = {}
        for name, default in cls._FIELDS:
            value = params.get(name)
            has_default = default is not _REQUIRED
            if value is None or (value == "" and has_default):
                if not has_default:
                    raise ShapeError(f"{name} is required")
                continue
            given[name] = check(hints[name], value, name)
        return cls(**given)

    def result(self, raw: object) -> R:
        """The answer, checked against `RESULT` (ShapeError when it does not fit)."""
        return cast(R, check(self.RESULT, raw, "result"))


class SessionRequest(Request[R]):
    """A request about one session: `id` is its id or name (a unique prefix will do)."""

    id: str

    @classmethod
    def decode(cls, params: Mapping[str, object]) -> Self:
        if not isinstance(params.get("id"), str) or not params.get("id"):
            raise NoSessionGiven("a session id is required (see ptui ls)")
        return super().decode(params)


class TabRequest(SessionRequest[R]):
    """A request about one of a session's terminals."""

    tab: str = AGENT_TAB


def _session_infos(raw: object) -> list[SessionInfo]:
    if not isinstance(raw, list):
        raise ShapeError(f"result: expected a list, got {type(raw).__name__}")
    return [decode_session_info(info) for info in raw]


# Server and events.
class HelloRequest(Request[Hello]):
    METHOD = Method.HELLO
    RESULT = Hello
    version: int
    client: str | None = None
    """What kind of client this is (`cli`, `app`), for the server's log."""


class ServerStatusRequest(Request[ServerStatus]):
    METHOD = Method.SERVER_STATUS
    RESULT = ServerStatus


class ServerStop(Request[Stopping]):
    METHOD = Method.SERVER_STOP
    RESULT = Stopping


class Subscribe(Request[Subscribed]):
    METHOD = Method.EVENTS_SUBSCRIBE
    RESULT = Subscribed

    def result(self, raw: object) -> Subscribed:
        if not isinstance(raw, dict):
            raise ShapeError(f"result: expected an object, got {type(raw).__name__}")
        return {"sessions": _session_infos(raw.get("sessions"))}


class Doctor(Request[DoctorReport]):
    METHOD = Method.SERVER_DOCTOR
    RESULT = DoctorReport
    repos: list[str] | None = None
    """Repositories to look in besides the ones sessions are in."""
    fix: bool = False


class ClientColors(Request[bool]):
    """The client's theme colours answer every program's colour queries."""

    METHOD = Method.CLIENT_COLORS
    RESULT = bool
    foreground: str
    background: str
    """Each `#rrggbb`."""

    @classmethod
    def decode(cls, params: Mapping[str, object]) -> Self:
        # The format is the contract: a colour left out or of another type is told
        # how to write one, as a malformed string is.
        for name in ("foreground", "background"):
            value = params.get(name)
            if not isinstance(value, str) or not _HEX_COLOR.fullmatch(value):
                raise ShapeError(f"{name} must be a colour written #rrggbb, not {value!r:.40}")
        return super().decode(params)


# Sessions.
class SessionList(Request[list[SessionInfo]]):
    METHOD = Method.SESSION_LIST
    RESULT = list[SessionInfo]
    all: bool = False
    """Archived sessions too."""

    def result(self, raw: object) -> list[SessionInfo]:
        return _session_infos(raw)


class SessionInfoRequest(SessionRequest[SessionInfo]):
    METHOD = Method.SESSION_INFO
    RESULT = SessionInfo

    def result(self, raw: object) -> SessionInfo:
        return decode_session_info(raw)


class SessionCreate(Request[list[SessionInfo]]):
    """`count` sessions on one task; the first one's info carries any warnings."""

    METHOD = Method.SESSION_CREATE
    RESULT = list[SessionInfo]
    task: str = ""
    repo: str = "."
    base: str | None = None
    name: str | None = None
    agent: str | None = None
    """A name from `[agents]`; the config's `default_agent` when None."""
    count: int = 1
    cols: int = 120
    rows: int = 36

    def result(self, raw: object) -> list[SessionInfo]:
        return _session_infos(raw)


class SessionStop(SessionRequest[SessionInfo]):
    METHOD = Method.SESSION_STOP
    RESULT = SessionInfo

    def result(self, raw: object) -> SessionInfo:
        return decode_session_info(raw)


class SessionResume(SessionRequest[SessionInfo]):
    METHOD = Method.SESSION_RESUME
    RESULT = SessionInfo
    cols: int | None = None
    rows: int | None = None
    """The terminal's size, if the client knows it; the last one otherwise."""

    def result(self, raw: object) -> SessionInfo:
        return decode_session_info(raw)


class SessionArchive(SessionRequest[Archived]):
    METHOD = Method.SESSION_ARCHIVE
    RESULT = Archived

    def result(self, raw: object) -> Archived:
        info = decode_session_info(raw)  # as any SessionInfo: its enums, older servers
        counts = {name: info.get(name) for name in _SAVED}
        check(dict[str, int], counts, "result")
        return cast(Archived, {**info, **counts})


class SessionRestore(SessionRequest[SessionInfo]):
    METHOD = Method.SESSION_RESTORE
    RESULT = SessionInfo

    def result(self, raw: object) -> SessionInfo:
        return decode_session_info(raw)


class SessionRemove(SessionRequest[Removed]):
    METHOD = Method.SESSION_REMOVE
    RESULT = Removed
    force: bool = False
    """Delete work not merged into the base too."""


class SessionCommit(SessionRequest[Committed]):
    METHOD = Method.SESSION_COMMIT
    RESULT = Committed
    message: str


class SessionMerge(SessionRequest[Merged]):
    METHOD = Method.SESSION_MERGE
    RESULT = Merged
    strategy: str = "merge"
    """`ff`, `merge` or `squash`."""
    message: str | None = None


class SessionRun(SessionRequest[TabOpened]):
    """Run a `[scripts]` entry in a tab named after it."""

    METHOD = Method.SESSION_RUN
    RESULT = TabOpened
    script: str


class SessionShell(SessionRequest[TabOpened]):
    METHOD = Method.SESSION_SHELL
    RESULT = TabOpened


# Terminals.
class SessionScreen(TabRequest[Screen]):
    METHOD = Method.SESSION_SCREEN
    RESULT = Screen
    ansi: bool = False
    """The text with its colours as ANSI sequences, not plain."""


class SessionScrollback(TabRequest[Scrollback]):
    METHOD = Method.SESSION_SCROLLBACK
    RESULT = Scrollback
    start: int = 0
    """0 is the oldest line."""
    count: int = 100


class SessionInput(TabRequest[bool]):
    """Bytes for the program: `text` (UTF-8) or `b64` (any bytes)."""

    METHOD = Method.SESSION_INPUT
    RESULT = bool
    text: str | None = None
    b64: str | None = None


class SessionPaste(TabRequest[bool]):
    """Text pasted as the program asked (bracketed when it turned that on)."""

    METHOD = Method.SESSION_PASTE
    RESULT = bool
    text: str


class SessionResize(SessionRequest[bool]):
    METHOD = Method.SESSION_RESIZE
    RESULT = bool
    cols: int
    rows: int


class SessionAttach(TabRequest[Attached]):
    """Screen updates for this tab follow, first a full one."""

    METHOD = Method.SESSION_ATTACH
    RESULT = Attached
    cols: int | None = None
    rows: int | None = None


class SessionDetach(TabRequest[bool]):
    METHOD = Method.SESSION_DETACH
    RESULT = bool


# Trust.
class TrustShow(Request[TrustShown]):
    METHOD = Method.TRUST_SHOW
    RESULT = TrustShown
    repo: str = "."
    base: str | None = None


class TrustAdd(Request[TrustShown]):
    """Trust the file whose digest the user was shown (refused if it changed since)."""

    METHOD = Method.TRUST_ADD
    RESULT = TrustShown
    repo: str = "."
    base: str | None = None
    digest: str | None = None


# Review.
class SessionDiff(SessionRequest[Diff]):
    METHOD = Method.SESSION_DIFF
    RESULT = Diff
    scope: str = "all"
    """`all`, `committed` or `uncommitted`."""
    stat: bool = False
    """The listing and stat only, no patch."""


class SessionDiffFiles(SessionRequest[DiffListing]):
    METHOD = Method.SESSION_DIFF_FILES
    RESULT = DiffListing
    scope: str = "all"


class SessionDiffFile(SessionRequest[DiffFileDetail]):
    METHOD = Method.SESSION_DIFF_FILE
    RESULT = DiffFileDetail
    path: str
    scope: str = "all"
    max_lines: int = 20_000


class SessionArchivePlan(SessionRequest[ArchivePlan]):
    METHOD = Method.SESSION_ARCHIVE_PLAN
    RESULT = ArchivePlan


class SessionMergePreview(SessionRequest[MergePreview]):
    METHOD = Method.SESSION_MERGE_PREVIEW
    RESULT = MergePreview


class SessionSummary(Request[dict[str, Summary]]):
    """Per live session: diff size, position against the base, overlaps, tests."""

    METHOD = Method.SESSION_SUMMARY
    RESULT = dict[str, Summary]


class SessionSendTestFailure(SessionRequest[TestFailureSent]):
    """Paste the tail of a script tab's output to the agent, asking it to fix it."""

    METHOD = Method.SESSION_SEND_TEST_FAILURE
    RESULT = TestFailureSent
    tab: str = "test"
    lines: int = 40


class RepoBranches(Request[Branches]):
    METHOD = Method.REPO_BRANCHES
    RESULT = Branches
    repo: str = "."


class RepoSettings(Request[Settings]):
    """The settings a new-session form offers: agents, defaults, scripts."""

    METHOD = Method.REPO_SETTINGS
    RESULT = Settings
    repo: str = ""
    """A repository on the server's machine; "" for the user's file alone."""
    base: str | None = None
    """The base whose committed `.ptui.toml` counts (`git.default_base` without it)."""


class SessionStatus(SessionRequest[StatusReport]):
    """Why the session's agent has its status."""

    METHOD = Method.SESSION_STATUS
    RESULT = StatusReport


class SessionRecord(TabRequest[Recording]):
    """Start saving a tab's output to `path` (asciicast v2), or stop with `stop`."""

    METHOD = Method.SESSION_RECORD
    RESULT = Recording
    path: str = ""
    """An absolute path on the server's machine; the file must not exist."""
    stop: bool = False


class SessionHook(SessionRequest[bool]):
    """The session's agent ran one of its own lifecycle hooks (`ptui hook`); the
    answer says whether its agent runs."""

    METHOD = Method.SESSION_HOOK
    RESULT = bool
    event: str
    """The agent's name for it: `UserPromptSubmit`, `Stop`, `agent-turn-complete` ..."""
    agent_session: str = ""
    """The agent's own conversation id, as the hook's payload names it."""
    detail: str = ""
    """What the event says (a notification's type and text), for `--explain`."""


REQUESTS: dict[Method, type[Request[object]]] = {
    cls.METHOD: cls
    for cls in (
        HelloRequest, ServerStatusRequest, ServerStop, Subscribe, Doctor, ClientColors,
        SessionList, SessionInfoRequest, SessionCreate, SessionStop, SessionResume,
        SessionArchive, SessionRestore, SessionRemove, SessionCommit, SessionMerge,
        SessionRun, SessionShell, SessionScreen, SessionScrollback, SessionInput,
        SessionPaste, SessionResize, SessionAttach, SessionDetach, TrustShow, TrustAdd,
        SessionDiff, SessionDiffFiles, SessionDiffFile, SessionArchivePlan,
        SessionMergePreview, SessionSummary, SessionSendTestFailure, RepoBranches,
        RepoSettings, SessionStatus, SessionRecord, SessionHook,
    )
}  # fmt: skip
"""Method -> its request type; every method of `Method` has one (a test holds it)."""
