"""Screen and title rules for the status engine: data shipped with ptui, per agent.

Each agent CLI's screens are described in `tui/server/rules/<agent>.toml`:

    agent = "codex"
    command = "codex"          # the program's file name, to find the rules of a
                               # profile named otherwise
    [[screen]]
    id = "sign-in"
    status = "waiting"         # waiting, limited, busy or idle
    row = 'Sign in with ChatGPT'       # RE2, searched in each visible row
    also = ['Provide your own API key']  # each on some row too (optional)
    unless = ['esc to interrupt']         # none of these on screen (optional)
    versions = ">=0.40"        # the agent versions it applies to (optional)
    cursor = true              # only while that row is the cursor's (optional)
    what = "the sign-in menu"  # said by `ptui status --explain`
    resets = 'try again at (.+?)\\.'  # limited only: the reset time's text

    [[title]]
    id = "action-required"
    status = "waiting"
    pattern = '^Action Required'

The shipped files are ptui's, so they are trusted; the user's own
`busy_patterns` / `waiting_patterns` become a rule book of their own, above them
(`user_rules`). Every pattern is RE2 (linear in the text), and patterns are only
matched against rows that changed since the last look (`RowMatcher`), so a
streaming agent costs a few short matches per look, not a screen's worth.

Rules name versions because screens drift between releases: the agent's
`--version` is read once (`tui.server.status`), and a rule whose range leaves
that version out is not used. With the version unknown every rule is used.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import re2

from tui.patterns import PatternSet, compile_patterns
from tui.protocol.states import Activity
from tui.server.status_engine import SCREEN_ORDER

_VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?")
_RANGE = re.compile(r"\s*(>=|<=|==|>|<)\s*([0-9][0-9.]*)\s*")
_RULE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,40}")

Version = tuple[int, int, int]


def parse_version(text: str) -> Version | None:
    """The first `X.Y.Z` in a `--version` output ("codex-cli 0.46.0" -> (0, 46, 0))."""
    match = _VERSION.search(text)
    if match is None:
        return None
    major, minor, patch = match.groups()
    return (int(major), int(minor or 0), int(patch or 0))


def version_in(version: Version | None, spec: str) -> bool:
    """Whether `version` fits `spec` (">=0.40, <0.60"); True when either is unknown."""
    if version is None or not spec.strip():
        return True
    for part in spec.split(","):
        match = _RANGE.fullmatch(part)
        if match is None:
            raise ValueError(f"version range {part.strip()!r}: write e.g. >=1.2, <2")
        op, bound_text = match.groups()
        bound = parse_version(bound_text)
        assert bound is not None  # the regex took digits
        ok = {
            ">=": version >= bound,
            "<=": version <= bound,
            "==": version == bound,
            ">": version > bound,
            "<": version < bound,
        }[op]
        if not ok:
            return False
    return True


@dataclass(frozen=True)
class Rule:
    """One rule: a status, and the patterns (indices into its book's set) saying so."""

    name: str
    """`<agent>.<id>`: how `--explain` names it."""
    status: Activity
    row: int
    also: tuple[int, ...] = ()
    unless: tuple[int, ...] = ()
    versions: str = ""
    what: str = ""
    resets: str = ""
    """limited rules: an RE2 with one group, the reset time's text in the row."""
    at_cursor: bool = False
    """Holds only while the row it matches is the cursor's: a question answered
    long ago stays on screen, but the cursor has moved on."""
    near_cursor: int | None = None
    """Holds only while a row it matches is at most this many rows from the
    cursor's: a notice the agent has moved on from scrolls away from its prompt."""


@dataclass(frozen=True)
class RuleBook:
    """Rules for one agent (or the user's own), with their patterns in one set."""

    agent: str
    layer: str
    """`screen` for shipped rules, `user-rules` for the user's patterns."""
    patterns: PatternSet
    rules: tuple[Rule, ...]
    titles: PatternSet = field(default_factory=lambda: compile_patterns([]))
    title_rules: tuple[Rule, ...] = ()
    source: str = ""
    """Where the rules came from (the shipped file's name)."""
    command: str = ""
    """The agent's program name (`codex`): its `--version` picks the rules."""

    def for_version(self, version: Version | None) -> RuleBook:
        """This book without the rules whose `versions` leave `version` out."""
        keep = tuple(r for r in self.rules if version_in(version, r.versions))
        titles = tuple(r for r in self.title_rules if version_in(version, r.versions))
        if len(keep) == len(self.rules) and len(titles) == len(self.title_rules):
            return self
        return RuleBook(
            self.agent,
            self.layer,
            self.patterns,
            keep,
            self.titles,
            titles,
            self.source,
            self.command,
        )

    def title_status(self, title: str) -> Rule | None:
        """The first title rule that the window title matches."""
        if not self.title_rules:
            return None
        found = set(self.titles.matches(title))
        return next((r for r in self.title_rules if r.row in found), None)


class RuleError(ValueError):
    """A rule file that cannot be used; `str()` names the file and the rule."""


def _book(agent: str, data: dict[str, object], source: str, layer: str = "screen") -> RuleBook:
    sources: list[str] = []
    index: dict[str, int] = {}

    def pattern(text: object, where: str) -> int:
        if not isinstance(text, str) or not text:
            raise RuleError(f"{source}: {where}: a pattern must be a non-empty string")
        if text not in index:
            index[text] = len(sources)
            sources.append(text)
        return index[text]

    def patterns(value: object, where: str) -> tuple[int, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise RuleError(f"{source}: {where}: expected a list of patterns")
        return tuple(pattern(v, where) for v in value)

    rules: list[Rule] = []
    for kind in ("screen",):
        for i, raw in enumerate(_tables(data.get(kind), source, kind)):
            where = f"{kind}[{i}] ({raw.get('id', '?')})"
            rules.append(_rule(agent, raw, where, source, pattern(raw.get("row"), where), patterns))
    title_sources: list[str] = []
    title_rules: list[Rule] = []
    for i, raw in enumerate(_tables(data.get("title"), source, "title")):
        where = f"title[{i}] ({raw.get('id', '?')})"
        text = raw.get("pattern")
        if not isinstance(text, str) or not text:
            raise RuleError(f"{source}: {where}: pattern must be a non-empty string")
        title_sources.append(text)
        title_rules.append(_rule(agent, raw, where, source, len(title_sources) - 1, None))
    try:
        compiled = compile_patterns(sources)
        titles = compile_patterns(title_sources)
    except ValueError as exc:
        raise RuleError(f"{source}: pattern {exc}") from None
    command = data.get("command", "")
    return RuleBook(
        agent,
        layer,
        compiled,
        tuple(rules),
        titles,
        tuple(title_rules),
        source,
        command if isinstance(command, str) else "",
    )


def _tables(value: object, source: str, kind: str) -> list[dict[str, object]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise RuleError(f"{source}: [[{kind}]] must be tables")
    return value


def _rule(
    agent: str,
    raw: dict[str, object],
    where: str,
    source: str,
    row: int,
    patterns: object,
) -> Rule:
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _RULE_ID.fullmatch(rule_id):
        raise RuleError(f"{source}: {where}: id must be lower-case letters, digits and '-'")
    try:
        status = Activity(str(raw.get("status")))
    except ValueError:
        status = Activity.STOPPED  # refused below
    if status not in SCREEN_ORDER:
        allowed = ", ".join(SCREEN_ORDER)
        raise RuleError(f"{source}: {where}: status must be one of {allowed}")
    versions = raw.get("versions", "")
    if not isinstance(versions, str):
        raise RuleError(f"{source}: {where}: versions must be a string like '>=1.2, <2'")
    try:
        version_in((0, 0, 0), versions)
    except ValueError as exc:
        raise RuleError(f"{source}: {where}: {exc}") from None
    resets = raw.get("resets", "")
    if not isinstance(resets, str):
        raise RuleError(f"{source}: {where}: resets must be a pattern")
    if resets:
        try:
            compiled = re2.compile(resets)
        except re2.error as exc:
            raise RuleError(f"{source}: {where}: resets: {exc}") from None
        if compiled.groups != 1:
            raise RuleError(f"{source}: {where}: resets must have exactly one group")
    what = raw.get("what", "")
    at_cursor = raw.get("cursor", False)
    if not isinstance(at_cursor, bool):
        raise RuleError(f"{source}: {where}: cursor must be true or false")
    near = raw.get("near_cursor")
    if near is not None and (not isinstance(near, int) or isinstance(near, bool) or near < 0):
        raise RuleError(f"{source}: {where}: near_cursor must be a number of rows")
    also: tuple[int, ...] = ()
    unless: tuple[int, ...] = ()
    if callable(patterns):
        also = patterns(raw.get("also"), where)
        unless = patterns(raw.get("unless"), where)
    return Rule(
        name=f"{agent}.{rule_id}",
        status=status,
        row=row,
        also=also,
        unless=unless,
        versions=versions,
        what=what if isinstance(what, str) else "",
        resets=resets,
        at_cursor=at_cursor,
        near_cursor=near,
    )


def load_rules(path: Path | str, text: str | None = None) -> RuleBook:
    """The rule book in a TOML file (RuleError names what is wrong)."""
    name = Path(path).name
    try:
        data = tomllib.loads(text if text is not None else Path(path).read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"{name}: {exc}") from None
    agent = data.get("agent")
    if not isinstance(agent, str) or not agent:
        raise RuleError(f'{name}: agent = "..." is missing')
    return _book(agent, data, name)


@cache
def shipped_books() -> dict[str, RuleBook]:
    """Every shipped rule book, by agent name and by command name."""
    books: dict[str, RuleBook] = {}
    folder = resources.files("tui.server") / "rules"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        text = entry.read_text("utf-8")
        book = load_rules(entry.name, text)
        books[book.agent] = book
        command = tomllib.loads(text).get("command")
        if isinstance(command, str) and command:
            books.setdefault(command, book)
    return books


def shipped_rules(agent: str, command: Sequence[str] = ()) -> RuleBook | None:
    """The shipped rules for a profile: by its name, else by its program's name."""
    books = shipped_books()
    book = books.get(agent)
    if book is None and command:
        book = books.get(Path(command[0]).name)
    return book


def generic_titles() -> RuleBook:
    """Title rules every agent gets (`tui/server/rules/_generic.toml`)."""
    return shipped_books()["_generic"]


def user_rules(agent: str, waiting: PatternSet, busy: PatternSet) -> RuleBook | None:
    """The user's `waiting_patterns` and `busy_patterns` as a rule book (None if empty)."""
    if not (waiting or busy):
        return None
    sources = [*waiting.sources, *busy.sources]
    rules = [
        Rule(f"{agent}.waiting_patterns[{i}]", Activity.WAITING, i, what=text)
        for i, text in enumerate(waiting.sources)
    ]
    rules += [
        Rule(f"{agent}.busy_patterns[{i}]", Activity.BUSY, len(waiting) + i, what=text)
        for i, text in enumerate(busy.sources)
    ]
    # The lists compiled alone already (the config checked them); together they
    # may exceed one list's limits, so each keeps its own set.
    return RuleBook(
        agent, "user-rules", _joined(waiting, busy, sources), tuple(rules), source="config"
    )


class _Joined(PatternSet):
    """Two compiled lists searched one after the other, as one list."""

    __slots__ = ("_parts",)

    def __init__(self, parts: tuple[PatternSet, ...], sources: tuple[str, ...]) -> None:
        super().__init__(sources, None)
        self._parts = parts

    def matches(self, text: str) -> list[int]:
        found: list[int] = []
        offset = 0
        for part in self._parts:
            found += [offset + i for i in part.matches(text)]
            offset += len(part)
        return found


def _joined(waiting: PatternSet, busy: PatternSet, sources: list[str]) -> PatternSet:
    return _Joined((waiting, busy), tuple(sources))


@dataclass(frozen=True)
class Fired:
    """A rule that holds on the screen now, with the row that shows it."""

    rule: Rule
    layer: str
    y: int
    text: str
    context: str = ""
    """The row and the two below it, joined: where a reset time is looked for
    (agents wrap a long notice)."""


class RowMatcher:
    """Which rules hold on a screen, kept up to date one changed row at a time.

    Per row it keeps the patterns found there; a look passes only the rows that
    changed (and how far the screen scrolled), so the cost of a look is the
    changed rows' length, whatever the screen's size.
    """

    def __init__(self, books: Iterable[RuleBook], rows: int) -> None:
        self.books = tuple(books)
        self.rows = rows
        self._hits: list[list[tuple[int, ...]]] = [[() for _ in range(rows)] for _ in self.books]
        self._texts: list[str] = [""] * rows

    def update(self, scrolled: int, changed: dict[int, str], rows: int) -> None:
        """Apply one look: the screen moved up `scrolled` rows, then `changed` rows
        (y -> text) were read; `rows` is the screen's height now."""
        if rows != self.rows:
            self.rows = rows
            self._hits = [[() for _ in range(rows)] for _ in self.books]
            self._texts = [""] * rows
        if scrolled:
            k = min(scrolled, rows)
            for hits in self._hits:
                del hits[:k]
                hits.extend([()] * k)
            del self._texts[:k]
            self._texts.extend([""] * k)
        for y, text in changed.items():
            if not 0 <= y < rows:
                continue
            self._texts[y] = text
            for b, book in enumerate(self.books):
                self._hits[b][y] = tuple(book.patterns.matches(text)) if text else ()

    def fired(self, cursor_row: int | None = None) -> list[Fired]:
        """Every rule that holds now, by book (user's first) then rule order;
        `cursor_row`: the row the cursor is on (for rules that must be there)."""
        out: list[Fired] = []
        for b, book in enumerate(self.books):
            rows = self._hits[b]
            present: set[int] = set()
            for hits in rows:
                present.update(hits)
            if not present:
                continue
            for rule in book.rules:
                if rule.row not in present:
                    continue
                if any(i not in present for i in rule.also):
                    continue
                if any(i in present for i in rule.unless):
                    continue
                found = [y for y, hits in enumerate(rows) if rule.row in hits]
                if rule.at_cursor:
                    found = [y for y in found if y == cursor_row]
                if rule.near_cursor is not None:
                    near = rule.near_cursor
                    found = [
                        y for y in found if cursor_row is not None and abs(y - cursor_row) <= near
                    ]
                if not found:
                    continue
                y = found[-1]  # the latest on screen
                context = " ".join(t.strip() for t in self._texts[y : y + 3])
                out.append(Fired(rule, book.layer, y, self._texts[y], context))
        return out

    def drawn(self) -> bool:
        """Whether any row shows something."""
        return any(text.strip() for text in self._texts)


def reset_text(rule: Rule, row: str, context: str = "") -> str:
    """The reset time a limited rule's row shows, or failing that the rows below
    it (`context`: agents wrap a long notice); "" when its pattern finds none."""
    if not rule.resets:
        return ""
    for text in (row, context):
        match = re2.search(rule.resets, text) if text else None
        if match:
            return str(match.group(1)).strip()[:80]
    return ""
