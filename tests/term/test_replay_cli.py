"""`ptui replay FILE`: the installed binary feeds a byte file through the emulator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tui.term.emulator import Emulator

PTUI = Path(sys.executable).with_name("ptui")
CORPUS = Path(__file__).with_name("corpus")

SAMPLE = (
    b"plain \x1b[1;31mbold red\x1b[0m \x1b[38;2;10;20;30;48;5;200mtruecolour\x1b[m\r\n"
    b"\x1b[4:3mcurly\x1b[24m \x1b[3;58;5;100mitalic\x1b[0m \xe4\xb8\xad\xe6\x96\x87 "
    b"\xe2\x9a\xa0\xef\xb8\x8f ok\r\n"
    b"\x1b]0;title\x07\x1bPqsixel\x1b\\\x1b[?2004hlast line"
)


def replay(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(PTUI), "replay", *args], input=stdin, capture_output=True, timeout=60, check=False
    )


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "sample.bin"
    path.write_bytes(SAMPLE)
    return path


def test_binary_is_installed() -> None:
    assert PTUI.exists(), f"{PTUI} missing: install the project into the venv"


def test_prints_plain_text(sample: Path) -> None:
    result = replay(str(sample), "--cols", "60", "--rows", "4")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == (
        "plain bold red truecolour\ncurly italic 中文 ⚠️ ok\nlast line\n\n"
    )
    assert b"\x1b" not in result.stdout


def test_cols_and_rows_are_honoured(sample: Path) -> None:
    result = replay(str(sample), "--cols", "10", "--rows", "3")
    assert result.returncode == 0, result.stderr
    rows = result.stdout.decode().split("\n")[:-1]
    assert len(rows) == 3
    assert all(len(row) <= 10 for row in rows)
    assert rows[-1] == "last line"


def test_defaults_are_200_by_50(sample: Path) -> None:
    rows = replay(str(sample)).stdout.decode().split("\n")[:-1]
    assert len(rows) == 50


def test_ansi_output_reproduces_the_styles(sample: Path) -> None:
    result = replay(str(sample), "--ansi", "--cols", "60", "--rows", "4")
    assert result.returncode == 0, result.stderr
    original = Emulator(cols=60, rows=4)
    original.feed(SAMPLE)
    # Printing the output line by line on a fresh screen must give the same cells.
    again = Emulator(cols=60, rows=4)
    again.feed(result.stdout.rstrip(b"\n").replace(b"\n", b"\r\n"))
    assert [line.runs for line in again.visible_lines()] == [
        line.runs for line in original.visible_lines()
    ]
    assert b"\x1b[" in result.stdout


@pytest.mark.parametrize("name", ["curses_app", "git_log", "top"])
def test_ansi_round_trip_on_recorded_programs(name: str) -> None:
    path = CORPUS / f"{name}.bin"
    if not path.exists():
        pytest.skip(f"{path} not recorded")
    result = replay(str(path), "--ansi", "--cols", "80", "--rows", "24")
    assert result.returncode == 0, result.stderr
    original = Emulator(cols=80, rows=24)
    original.feed(path.read_bytes())
    again = Emulator(cols=80, rows=24)
    # DECAWM off: a full-width row must not wrap onto the next one.
    again.feed(b"\x1b[?7l" + result.stdout.rstrip(b"\n").replace(b"\n", b"\r\n"))
    expected = [
        [(t, s._replace(link=None)) for t, s in line.runs] for line in original.visible_lines()
    ]
    got = [list(line.runs) for line in again.visible_lines()]
    assert got == expected


def test_stdin(sample: Path) -> None:
    result = replay("-", "--cols", "60", "--rows", "4", stdin=SAMPLE)
    assert result.returncode == 0, result.stderr
    assert result.stdout == replay(str(sample), "--cols", "60", "--rows", "4").stdout


def test_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    result = replay(str(tmp_path / "nope.bin"))
    assert result.returncode == 1
    assert result.stdout == b""
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and "nope.bin" in lines[0] and "Traceback" not in lines[0]


def test_directory_is_a_one_line_error(tmp_path: Path) -> None:
    result = replay(str(tmp_path))
    assert result.returncode == 1
    assert len(result.stderr.decode().splitlines()) == 1


@pytest.mark.parametrize(
    "size", [("--cols", "0"), ("--rows", "0"), ("--cols", "-5"), ("--rows", "100000")]
)
def test_bad_size_exits_2(sample: Path, size: tuple[str, str]) -> None:
    result = replay(str(sample), *size)
    assert result.returncode == 2
    assert result.stdout == b""
    assert len(result.stderr.decode().splitlines()) == 1


def test_non_numeric_size_exits_2(sample: Path) -> None:
    result = replay(str(sample), "--cols", "wide")
    assert result.returncode == 2
    assert b"--cols" in result.stderr


def test_hostile_input_does_not_crash(tmp_path: Path) -> None:
    path = tmp_path / "hostile.bin"
    path.write_bytes(
        b"\x1b[5K\x1b[7J\x1b[1;2;3;4f\xe4\xb8\xad\x1b[D\xe4\xb8\xad"
        + b"e"
        + "\u0301".encode() * 50_000
        + b"\x1b]52;c;"
        + b"A" * 2_000_000
        + b"\x07\xff\xfe\x1b[999999999bok"
    )
    result = replay(str(path), "--cols", "20", "--rows", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().split("\n")[-2].endswith("ok")
