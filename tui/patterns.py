"""User-supplied screen patterns, compiled with RE2 so matching is linear-time.

Agent profiles carry `busy_patterns` and `waiting_patterns` from config files.
Python's `re` backtracks: `(.+)+\\x00` against a long line never finishes, and
a status check runs on every screen update. RE2 (google-re2) has no
backtracking; a `PatternSet` matches all of a list's patterns in one pass of
one automaton over the text, and `compile_patterns` bounds what a pass can cost:
at most `MAX_PATTERNS` patterns of `MAX_PATTERN_LENGTH` characters, compiling to
at most `MAX_PROGRAM_SIZE` RE2 instructions in total, in `MAX_MEM` bytes.

Linear is not the same as cheap (a set near the limits can take seconds over a
large screen), so the status engine also runs matches off the event loop; see
`tui.server.status`.

The syntax is RE2's (https://github.com/google/re2/wiki/Syntax), close to
Python's for what status patterns use; inline flags `(?i)`, `(?m)`, `(?s)` and
named groups `(?P<name>...)` work alike. Refused, with a one-line reason:
backreferences, lookaround, atomic groups, possessive quantifiers and
conditionals (no linear-time engine can run them), and Python spellings RE2
lacks (`\\Z`, `\\u2026`, `(?x)`, `{,3}`). Matching differently from Python:
`\\w`, `\\d`, `\\s` and `\\b` are ASCII-only, and `$` without `(?m)` matches
only at the very end of the text, not before a final newline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

import re2

MAX_PATTERNS: Final = 64
"""Patterns in one list (one agent's busy or waiting patterns)."""
MAX_PATTERN_LENGTH: Final = 1_000
"""Characters in one pattern."""
MAX_PROGRAM_SIZE: Final = 5_000
"""RE2 instructions for a whole list: what one pass over a character may cost.

Ordinary patterns compile to 5-100 instructions; a Unicode class like `\\pL`
to about 1,200.
"""
MAX_MEM: Final = 2 << 20
"""Bytes RE2 may use for one list: the compiled program plus its DFA cache."""

SYNTAX_URL: Final = "https://github.com/google/re2/wiki/Syntax"

# What RE2 names in its error ("invalid perl operator: (?=") -> the construct,
# for the constructs that need backtracking.
_BACKTRACKING: Final = (
    (re.compile(r"\\[1-9]$|\\[kg]$|\(\?P=$"), "backreference"),
    (re.compile(r"\(\?[=!]$"), "lookahead"),
    (re.compile(r"\(\?<[=!]$"), "lookbehind"),
    (re.compile(r"\(\?>$"), "atomic group"),
    (re.compile(r"[*+?}]\+$"), "possessive quantifier"),
    (re.compile(r"\(\?\($"), "conditional"),
    (re.compile(r"\(\?(R|\d|P>)$"), "recursion"),
)
# Python spellings RE2 has another way to write.
_HINTS: Final = {
    "\\Z": "write \\z for the end of the text",
    "\\u": "write \\x{2026} for a code point",
    "\\U": "write \\x{1F600} for a code point",
    "\\N": "write \\x{...} for a code point",
    "(?x": "verbose mode is not supported; remove spaces and comments",
    "(?#": "comments are not supported",
    "(?a": "\\w, \\d and \\s are ASCII-only already",
    "(?u": "use \\pL or \\p{Greek} for Unicode classes",
    "(?L": "locale mode is not supported",
}
# `{,3}` means {0,3} to Python and the literal text "{,3}" to RE2.
_OPEN_LOWER_BOUND: Final = re.compile(r"\{,\d+\}")


class PatternError(ValueError):
    """A pattern list that cannot be used; `str()` is `[index] reason`, one line."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(f"[{index}] {reason}")
        self.index = index
        """Position of the offending pattern in its list."""
        self.reason = reason


class PatternSet:
    """A compiled list of patterns: which one, if any, a text contains.

    Immutable; equal to another set with the same sources in the same order.
    Make one with `compile_patterns`.
    """

    __slots__ = ("_matcher", "sources")

    def __init__(self, sources: tuple[str, ...], matcher: Any) -> None:
        self.sources = sources
        """The patterns as written in the config, in order."""
        self._matcher = matcher  # an re2.Set with a match-everything sentinel last

    def search(self, text: str) -> int | None:
        """Index of the first pattern (in list order) found in `text`, or None.

        One pass over `text` whatever the number of patterns; linear in its length.
        """
        if self._matcher is None:
            return None
        # Encoded here, not by re2: a lone surrogate would make its encode raise.
        found = self._matcher.Match(text.encode("utf-8", "replace"))
        # The sentinel (index len(sources)) is missing only if RE2's DFA could not
        # start, which compile_patterns rules out by probing the set once.
        hits = [i for i in found or () if i < len(self.sources)]
        return min(hits) if hits else None

    def matches(self, text: str) -> list[int]:
        """Indices of every pattern found in `text`, in list order (one pass)."""
        if self._matcher is None:
            return []
        found = self._matcher.Match(text.encode("utf-8", "replace"))
        limit = len(self.sources)
        return sorted(i for i in found or () if i < limit)

    def __len__(self) -> int:
        return len(self.sources)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PatternSet):
            return NotImplemented
        return self.sources == other.sources

    def __hash__(self) -> int:
        return hash(self.sources)

    def __repr__(self) -> str:
        return f"PatternSet({list(self.sources)!r})"

    # The RE2 objects cannot be copied or pickled; the sources say everything.
    def __copy__(self) -> PatternSet:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> PatternSet:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (compile_patterns, (self.sources,))


NO_PATTERNS: Final = PatternSet((), None)
"""The empty list: matches nothing."""


def _options() -> Any:
    options = re2.Options()
    options.max_mem = MAX_MEM
    options.log_errors = False  # re2 would print every bad pattern to stderr
    options.never_capture = True  # groups only group: nothing reads them
    return options


def _short(pattern: str) -> str:
    text = repr(pattern)
    return text if len(text) <= 60 else text[:57] + "..."


def _syntax_reason(pattern: str, message: str) -> str:
    """Why RE2 refused `pattern`, from its error message ("missing ): (a")."""
    offending = message.partition(": ")[2]
    if offending == "(?P" and (named := re.search(r"\(\?P[=>]", pattern)):
        offending = named.group()  # RE2 stops reading at the P
    kind = next((k for rx, k in _BACKTRACKING if rx.search(offending)), None)
    if kind is not None:
        return (
            f"{_short(pattern)} uses syntax ptui cannot run in linear time ({kind}); "
            f"see RE2 syntax: {SYNTAX_URL}"
        )
    hint = next((h for start, h in _HINTS.items() if offending.startswith(start)), None)
    reason = f"{_short(pattern)} is not a valid regex: {message}"
    return f"{reason}; {hint}" if hint else f"{reason}; see RE2 syntax: {SYNTAX_URL}"


def _open_lower_bound(pattern: str) -> str | None:
    """The first `{,n}` outside a character class and not escaped, if any."""
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            i += 1
            # A "]" first in a class ("[]a]", "[^]a]") is a member, not its end.
            i += pattern.startswith("^", i)
            i += pattern.startswith("]", i)
            continue
        elif match := _OPEN_LOWER_BOUND.match(pattern, i):
            return match.group()
        i += 1
    return None


def compile_patterns(patterns: Sequence[str]) -> PatternSet:
    """Compile one list of patterns; PatternError names the first bad one.

    Refused: more than `MAX_PATTERNS` patterns, an empty pattern (it would match
    every screen), one longer than `MAX_PATTERN_LENGTH`, syntax RE2 cannot run,
    and a list that compiles to more than `MAX_PROGRAM_SIZE` instructions.
    """
    if isinstance(patterns, str):
        raise TypeError("compile_patterns takes a list of patterns, not one string")
    sources = tuple(patterns)
    if not sources:
        return NO_PATTERNS
    if len(sources) > MAX_PATTERNS:
        raise PatternError(MAX_PATTERNS, f"too many patterns: at most {MAX_PATTERNS} in one list")
    options = _options()
    matcher = re2.Set.SearchSet(options)
    program_size = 0
    for index, pattern in enumerate(sources):
        if not isinstance(pattern, str):
            raise PatternError(index, f"must be a string, got {type(pattern).__name__}")
        if not pattern:
            raise PatternError(index, "is empty, and an empty pattern matches every screen")
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise PatternError(
                index,
                f"{_short(pattern)} is {len(pattern):,} characters long; "
                f"at most {MAX_PATTERN_LENGTH:,}",
            )
        if braces := _open_lower_bound(pattern):
            fixed = "{0," + braces[2:]
            raise PatternError(
                index, f"{_short(pattern)} uses {braces}, which RE2 reads as text; write {fixed}"
            )
        try:
            encoded = pattern.encode("utf-8")
        except UnicodeEncodeError:
            raise PatternError(index, f"{_short(pattern)} contains a lone surrogate") from None
        try:
            compiled = re2.compile(encoded, options)
        except re2.error as exc:
            message = exc.args[0].decode("utf-8", "replace") if exc.args else "invalid"
            if message.startswith("pattern too large"):
                raise PatternError(index, _too_large(pattern, None)) from None
            raise PatternError(index, _syntax_reason(pattern, message)) from None
        program_size += compiled.programsize
        if program_size > MAX_PROGRAM_SIZE:
            alone = compiled.programsize > MAX_PROGRAM_SIZE
            raise PatternError(index, _too_large(pattern, None if alone else program_size))
        matcher.Add(encoded)
    sentinel = matcher.Add(b"")  # matches every text: proves the DFA ran
    try:
        matcher.Compile()
    except re2.error:
        raise PatternError(len(sources) - 1, _too_large(sources[-1], program_size)) from None
    if sentinel not in (matcher.Match(b"") or ()):
        raise PatternError(len(sources) - 1, _too_large(sources[-1], program_size))
    return PatternSet(sources, matcher)


def _too_large(pattern: str, list_size: int | None) -> str:
    if list_size is None:
        return f"{_short(pattern)} is too complex (at most {MAX_PROGRAM_SIZE:,} RE2 instructions)"
    return (
        f"{_short(pattern)} makes the list too complex ({list_size:,} RE2 instructions; "
        f"at most {MAX_PROGRAM_SIZE:,} a list)"
    )
