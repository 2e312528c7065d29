"""The diff view's row model: layouts, pairing, changed words, syntax classes."""

from __future__ import annotations

from typing import Any

from tui.app.widgets.diff_rows import (
    TOKEN_CHUNK,
    FileRows,
    changed_spans,
    display_text,
)
from tui.protocol.messages import DiffFileDetail, SessionDiffFile


def detail(lines: list[list[Any]], path: str = "x.py", **extra: Any) -> DiffFileDetail:
    """A `session.diff_file` answer, checked as the client checks one."""
    hunk = {"header": "@@ -1,3 +1,3 @@", "old_start": 1, "old_lines": 3, "new_start": 1,
            "new_lines": 3, "lines": lines}  # fmt: skip
    answer = {"path": path, "old_path": None, "status": "M", "added": 1, "removed": 2,
              "binary": False, "hunks": [hunk], "truncated": False, **extra}  # fmt: skip
    return SessionDiffFile(id="s", path=path).result(answer)


EDIT = [
    [" ", 1, 1, "a = 1"],
    ["-", 2, None, "b = 2"],
    ["-", 3, None, "c = 3"],
    ["+", None, 2, "b = 20"],
    [" ", 4, 3, "d = 4"],
]


def test_split_pairs_removed_with_added_and_unified_keeps_order() -> None:
    rows = FileRows(detail(EDIT))
    split = rows.rows("split")
    assert [r.kind for r in split] == ["hunk", "line", "line", "line", "line"]
    pairs = [
        (r.left.lineno if r.left else None, r.right.lineno if r.right else None) for r in split[1:]
    ]
    assert pairs == [(1, 1), (2, 2), (3, None), (4, 3)]
    unified = rows.rows("unified")
    assert [(r.left.origin if r.left else "") for r in unified[1:]] == [" ", "-", "-", "+", " "]
    # The same line is found in the other layout.
    assert rows.find("unified", 0, 3) == 4 and rows.find("split", 0, 3) == 2


def test_changed_words_only_for_edits() -> None:
    old, new = changed_spans("total = price * count", "total = price * amount")
    assert [("total = price * count"[a:b]) for a, b in old] == ["count"]
    assert [("total = price * amount"[a:b]) for a, b in new] == ["amount"]
    assert changed_spans("alpha beta", "completely different words here") == ([], [])
    rows = FileRows(detail(EDIT))
    left = rows.rows("split")[2].left
    right = rows.rows("split")[2].right
    assert left is not None and right is not None
    assert [left.text[a:b] for a, b in rows.word_spans(left)] == ["2"]
    assert [right.text[a:b] for a, b in rows.word_spans(right)] == ["20"]
    unpaired = rows.rows("split")[3].left
    assert unpaired is not None and rows.word_spans(unpaired) == []


def test_syntax_classes_by_file_name_and_chunks() -> None:
    rows = FileRows(detail([["+", None, 1, "def f(): return 'x'  # hi"]]))
    side = rows.rows("unified")[1].left
    assert side is not None
    classes = {name for _text, name in rows.tokens(side)}
    assert {"keyword", "function", "string", "comment"} <= classes
    plain = FileRows(detail([["+", None, 1, "def f():"]], path="notes.unknownext"))
    side = plain.rows("unified")[1].left
    assert side is not None and plain.tokens(side) == [("def f():", "")]
    # A long hunk is highlighted a chunk at a time, every line still in place.
    many = [["+", None, i + 1, f"x{i} = {i}"] for i in range(TOKEN_CHUNK * 2 + 5)]
    big = FileRows(detail(many))
    last = big.rows("unified")[-1].left
    assert last is not None
    assert (
        "".join(t for t, _ in big.tokens(last)) == f"x{TOKEN_CHUNK * 2 + 4} = {TOKEN_CHUNK * 2 + 4}"
    )


def test_notes_for_binary_renamed_truncated() -> None:
    binary = FileRows(detail([], path="a.png", binary=True, hunks=[]))
    assert binary.rows("split")[0].text.startswith("Binary")
    renamed = FileRows(detail([], path="new.txt", old_path="old.txt", status="R", hunks=[]))
    assert "Renamed from old.txt" in renamed.rows("split")[0].text
    cut = FileRows(detail(EDIT, truncated=True))
    assert "cut here" in cut.rows("unified")[-1].text


def test_display_text_and_editor_line() -> None:
    assert display_text("a\tb\x1b[31m\r") == "a   b\ufffd[31m"
    rows = FileRows(detail(EDIT))
    removed_only = rows.rows("split")[3]
    assert rows.target_line(removed_only) == (3, False)
    assert rows.editor_line(removed_only) == 2  # the new file's next line there
    assert rows.editor_line(rows.rows("split")[0]) == 1
