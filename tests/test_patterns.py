"""User screen patterns: RE2 keeps hostile ones fast, refuses what it cannot run,
and reads the built-in agent patterns exactly as Python's `re` did."""

from __future__ import annotations

import copy
import pickle
import re
import time

import pytest

from tui.patterns import (
    MAX_PATTERN_LENGTH,
    MAX_PATTERNS,
    MAX_PROGRAM_SIZE,
    NO_PATTERNS,
    PatternError,
    compile_patterns,
)
from tui.server.status_rules import shipped_books

LONG = 3_000
# A 300x100 screen, as the status engine sees it: a 3,000-character line wrapped
# into 10 rows, then 90 more rows of the same character.
SCREEN_COLS, SCREEN_ROWS = 300, 100


def screen_of(char: str) -> str:
    return (char * SCREEN_COLS + "\n") * SCREEN_ROWS


def elapsed(fn: object, *args: object) -> float:
    start = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return time.perf_counter() - start


# ------------------------------------------------------- hostile patterns are fast
@pytest.mark.parametrize("pattern", [r"(.+)+\x00", r"(a*)*b", r"(x+x+)+y", r"(\w+\s?)+$x"])
@pytest.mark.parametrize("char", ["a", "x", "é"])
def test_catastrophic_backtracking_patterns_finish_fast(pattern: str, char: str) -> None:
    patterns = compile_patterns([pattern])
    for text in (char * LONG, char * LONG + "\n", screen_of(char)):
        patterns.search(text)  # the first pass builds RE2's DFA states
        assert elapsed(patterns.search, text) < 0.05, (pattern, len(text))


def test_a_full_list_of_hostile_patterns_is_one_fast_pass() -> None:
    hostile = [r"(.+)+\x00", r"(a*)*b", r"(x+x+)+y"]
    patterns = compile_patterns([f"{p}{i}" for i, p in enumerate(hostile * 21)])
    assert len(patterns) == 63
    text = screen_of("a")
    patterns.search(text)
    assert elapsed(patterns.search, text) < 0.05


# ------------------------------------------------------------------ refusals
@pytest.mark.parametrize(
    ("patterns", "index", "fragment"),
    [
        (["ok", r"(a)\1"], 1, r"'(a)\\1' uses syntax ptui cannot run in linear time"),
        ([r"(?P<x>a)(?P=x)"], 0, "(backreference)"),
        ([r"foo(?=bar)"], 0, "(lookahead)"),
        ([r"foo(?!bar)"], 0, "(lookahead)"),
        ([r"(?<=a)b"], 0, "(lookbehind)"),
        ([r"(?<!a)b"], 0, "(lookbehind)"),
        ([r"a++"], 0, "(possessive quantifier)"),
        ([r"a{2}+"], 0, "(possessive quantifier)"),
        ([r"(?>ab)"], 0, "(atomic group)"),
        ([r"(a)?(?(1)b|c)"], 0, "(conditional)"),
        ([r"x", "y", r"(unclosed"], 2, "'(unclosed' is not a valid regex: missing )"),
        ([r"[a-"], 0, "is not a valid regex: missing ]"),
        ([r"end\Z"], 0, r"write \z for the end of the text"),
        ([r"\u2026"], 0, r"write \x{2026} for a code point"),
        ([r"(?x) a b"], 0, "verbose mode is not supported"),
        ([r"a{,3}"], 0, "uses {,3}, which RE2 reads as text; write {0,3}"),
        (["ok", ""], 1, "is empty"),
        (["x" * (MAX_PATTERN_LENGTH + 1)], 0, "1,001 characters long; at most 1,000"),
        (["ok"] * (MAX_PATTERNS + 1), MAX_PATTERNS, "too many patterns: at most 64"),
        ([r"\pL{50}"], 0, "is too complex (at most 5,000 RE2 instructions)"),
        ([r"\pL{3}", r"\pL{2}"], 1, "makes the list too complex"),
        (["\ud800"], 0, "lone surrogate"),
    ],
)
def test_refused_patterns_name_their_index_and_why(
    patterns: list[str], index: int, fragment: str
) -> None:
    with pytest.raises(PatternError) as info:
        compile_patterns(patterns)
    assert info.value.index == index
    assert str(info.value).startswith(f"[{index}] ")
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_a_long_pattern_is_shortened_in_the_message() -> None:
    with pytest.raises(PatternError) as info:
        compile_patterns(["(?=" + "x" * 500 + ")"])
    assert len(str(info.value)) < 200


def test_limits_themselves_are_allowed() -> None:
    assert len(compile_patterns([f"p{i}" for i in range(MAX_PATTERNS)])) == MAX_PATTERNS
    assert compile_patterns(["x" * MAX_PATTERN_LENGTH]).search("x" * MAX_PATTERN_LENGTH) == 0
    assert compile_patterns([r"\pL{4}"]).search("ábçd") == 0  # ~4,800 instructions
    assert MAX_PROGRAM_SIZE == 5_000


@pytest.mark.parametrize("pattern", [r"\{,3}", r"[{,3}]", r"[]{,3}]", r"[^]{,3}]", r"a{0,3}"])
def test_braces_that_python_and_re2_read_alike_are_fine(pattern: str) -> None:
    compile_patterns([pattern])


def test_one_string_is_not_a_list() -> None:
    with pytest.raises(TypeError):
        compile_patterns("abc")
    with pytest.raises(PatternError, match=r"^\[0\] must be a string, got int$"):
        compile_patterns([3])  # type: ignore[list-item]


# ------------------------------------------------------------------ the set
def test_search_gives_the_first_matching_pattern_in_list_order() -> None:
    patterns = compile_patterns(["zeta", "alpha", "(?i)BETA"])  # RE2 sorts them inside
    assert patterns.search("alpha beta zeta") == 0
    assert patterns.search("alpha beta") == 1
    assert patterns.search("beta") == 2
    assert patterns.search("gamma") is None


def test_sets_compare_by_their_sources() -> None:
    a = compile_patterns(["x", "y"])
    assert a == compile_patterns(["x", "y"])
    assert hash(a) == hash(compile_patterns(("x", "y")))
    assert a != compile_patterns(["y", "x"])
    assert a.sources == ("x", "y")
    assert repr(a) == "PatternSet(['x', 'y'])"
    assert copy.deepcopy(a) is a
    assert pickle.loads(pickle.dumps(a)) == a
    assert compile_patterns([]) is NO_PATTERNS
    assert not NO_PATTERNS and NO_PATTERNS.search("anything") is None


def test_nul_and_non_ascii_text() -> None:
    assert compile_patterns([r"a\x00b"]).search("xa\x00by") == 0
    assert compile_patterns(["a\x00b"]).search("xa\x00by") == 0  # a raw NUL in the pattern
    assert compile_patterns([r"(?m)^.$"]).search("ab\n漢\n") == 0  # one code point, not a byte
    assert compile_patterns([r"(?i)élan"]).search("ÉLAN") == 0
    assert compile_patterns(["😀 done"]).search("all 😀 done") == 0
    assert compile_patterns(["x"]).search("\udcff x") == 0  # a lone surrogate does not raise


def test_known_differences_from_python_re() -> None:
    # Documented in tui.patterns: ASCII classes, and `$` only at the very end.
    assert re.search(r"^\w+$", "café") and compile_patterns([r"^\w+$"]).search("café") is None
    assert re.search(r"done$", "done\n")
    assert compile_patterns([r"done$"]).search("done\n") is None
    assert compile_patterns([r"(?m)done$"]).search("done\n") == 0


# ------------------------------------------- built-ins read screens as before
# Screen texts for every built-in pattern: what each agent draws, near misses,
# case variants for (?i), line positions for (?m).
SAMPLES = [
    "",
    "\n\n\n",
    "✻ Herding… (12s · ↑ 1.2k tokens · esc to interrupt)\n\n> \n",
    "• Working (4s • Esc to interrupt)\n",
    "ESC TO INTERRUPT\n",
    "esc interrupt\n",
    "Generating... esc interrupt\n",
    "esc to cancel\n",
    "⠏ Thinking about the code (ESC to cancel, 3s)\n",
    "Working (12s\n",
    "Working (s\n",
    "working (12s\n",
    "Bash command\n  npm test\nDo you want to proceed?\n❯ 1. Yes\n  2. No\n",
    "do you want to\n",
    "Would you like to proceed?\n",
    "❯ 1. Yes\n",
    "❯ 1: Yes\n",
    "Would you like to run the following command?\n  $ pytest\n› 1. Yes, proceed\n",
    "Would you like to make these changes?\n",
    "Would you like to apply the patch?\n",
    "Would you like to eat?\n",
    "Allow command?\n",
    "Allow command\n",
    "Add README.md to the chat? (Y)es/(N)o [Yes]: \n",
    "(y)es/(n)o\n",
    "Aider v0.60\nModel: gpt-4o\n> \n",
    "Aider v0.60\n>\n",
    "ask> \n",
    "ask > \n",
    "architect > \nmore\n",
    "  > \n",
    "> x\n",
    "prefix > \n",
    "two words > \n",
    "> ",
    ">",
    "Allow execution of: 'npm test'?\n● 1. Yes, allow once\n",
    "Apply this change?\n",
    "Apply this change\n",
    "Yes, allow once\n",
    "Permission required\n  Allow once   Always allow   Reject\n",
    "allow once\n",
    "ctrl+c to interrupt\n",
    "ctrlxc to interrupt\n",
    "Apply these changes? [y/n]\n",
    "Apply these changes? [Y/N]\n",
    "╭───────────────╮\n│ >             │\n╰───────────────╯\n  ? for shortcuts\n",
    "$ ls\nREADME.md\n$ \n",
]

# The screens of the agents' shipped rules (tests/status/corpus has them whole).
SAMPLES += [
    " Enter to confirm · Esc to cancel\n",
    " ❯ 1. Yes, I trust this folder\n",
    "/compact                      Free up context by summarizing the conversation so far\n",
    "  ⎿  You've hit your session limit · resets 3pm (Europe/London)\n",
    "  ? for shortcuts · ← for agents\n",
    "  Press enter to continue\n",
    "  Trust this folder? Codex can read, edit, and run files here\n",
    "■ You've hit your usage limit. Upgrade to Pro or try again at 3:45 PM.\n",
    "› Ask Codex to do anything\n",
    " ⠧ Thinking... (esc to cancel, 14s)\n",
    " │ ● 1. Trust folder (project)\n",
    "│   (Use Enter to select)\n",
    "│ (Press Enter to submit, Esc to cancel, Ctrl+C to clear stored key)\n",
    "│ Usage limit reached for all Pro models.\n",
    " >   Type your message or @path/to/file\n",
    "   ⬝⬝⬝ Cannot connect to API [retrying in 6s attempt #3]\n",
    "                                  Commands                                         esc\n",
    "                                                   tab agents  ctrl+p commands\n",
    "Add file to the chat? (Y)es/(N)o/(D)on't ask again [Yes]:\n",
    "        █░ Waiting for gpt-4o\n",
    "> \n",
]

BUILTIN_LISTS = [
    (f"{agent}.rules", list(book.patterns.sources))
    for agent, book in shipped_books().items()
    if book.patterns.sources
]


def python_first_match(patterns: list[str], text: str) -> int | None:
    return next((i for i, p in enumerate(patterns) if re.search(p, text)), None)


@pytest.mark.parametrize(("name", "patterns"), BUILTIN_LISTS, ids=[n for n, _ in BUILTIN_LISTS])
def test_builtin_patterns_match_what_python_re_matched(name: str, patterns: list[str]) -> None:
    compiled = compile_patterns(patterns)
    for text in SAMPLES:
        assert compiled.search(text) == python_first_match(patterns, text), (name, text)
    # Each pattern alone as well, so a list's first match cannot hide a difference.
    for pattern in patterns:
        alone = compile_patterns([pattern])
        for text in SAMPLES:
            assert (alone.search(text) is not None) == bool(re.search(pattern, text)), (
                pattern,
                text,
            )


def test_every_builtin_pattern_matches_some_sample() -> None:
    # Otherwise the comparison above would prove little for that pattern.
    for _, patterns in BUILTIN_LISTS:
        for pattern in patterns:
            assert any(re.search(pattern, text) for text in SAMPLES), pattern
