"""`FileList`: the changed files of a diff, one row each: status, +/- counts, path.

The rows come from `session.diff_files` (no patches), so a 1,000-file change
lists at once; the diff view asks for a file's hunks only when it is chosen.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.protocol.messages import DiffFile

# Status letter -> (label, theme variable of its colour).
_STATUS: dict[str, tuple[str, str]] = {
    "A": ("A", "$text-success"),
    "M": ("M", "$text-warning"),
    "D": ("D", "$text-error"),
    "R": ("R", "$text-primary"),
    "T": ("T", "$text-secondary"),
}


def file_label(file: DiffFile, count_width: int = 4) -> Content:
    """One row: status letter, counts (or `bin`), and the path (`old → new` for renames)."""
    status = file["status"]
    letter, colour = _STATUS.get(status, (status, "$text-muted"))
    if file["binary"]:
        counts: list[tuple[str, str] | str] = [(f"{'bin':>{2 * count_width + 1}}", "$text-muted")]
    else:
        counts = [
            (f"{'+' + str(file['added']):>{count_width}}", "$text-success"),
            " ",
            (f"{'-' + str(file['removed']):<{count_width}}", "$text-error"),
        ]
    path = file["path"]
    old = file["old_path"]
    shown = f"{old} → {path}" if old else path
    return Content.assemble((letter, f"bold {colour}"), " ", *counts, " ", shown)


class FileList(OptionList):
    """The files of a diff; highlighting one shows it in the diff view."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Next file", id="files_down", show=False,
                tooltip="Highlight the next file"),
        Binding("k", "cursor_up", "Previous file", id="files_up", show=False,
                tooltip="Highlight the previous file"),
    ]  # fmt: skip
    DEFAULT_CSS = """
    FileList {
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    class FilesShown(Message):
        """The list was filled with `count` files."""

        def __init__(self, file_list: FileList, count: int) -> None:
            super().__init__()
            self.file_list = file_list
            self.count = count

        @property
        def control(self) -> FileList:
            return self.file_list

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.files: list[DiffFile] = []

    def set_files(self, files: list[DiffFile], keep: str | None = None) -> None:
        """Show `files`; highlight the one at path `keep` if still there, else the first."""
        self.files = files
        widest = max([3, *(len(str(n)) + 1 for f in files for n in (f["added"], f["removed"]))])
        self.set_options(
            Option(file_label(f, widest), id=str(index)) for index, f in enumerate(files)
        )
        paths = [f["path"] for f in files]
        self.highlighted = paths.index(keep) if keep in paths else (0 if files else None)
        self.post_message(self.FilesShown(self, len(files)))

    @property
    def current(self) -> DiffFile | None:
        """The highlighted file."""
        index = self.highlighted
        return self.files[index] if index is not None and index < len(self.files) else None

    def step(self, delta: int) -> bool:
        """Highlight the file `delta` rows away; False when there is none."""
        index = self.highlighted
        if index is None or not 0 <= index + delta < len(self.files):
            return False
        self.highlighted = index + delta
        return True
