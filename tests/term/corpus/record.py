"""Record the differential-test corpus: real programs on a real PTY.

Run by hand (not in CI) from the repository root::

    .venv/bin/python tests/term/corpus/record.py            # every recording
    .venv/bin/python tests/term/corpus/record.py vim less   # some of them

Each recording spawns a command on a PTY of a fixed size with
``TERM=xterm-256color``, drives it with scripted keystrokes and delays, and saves
every byte it wrote to ``<name>.bin``. ``manifest.json`` records the size and the
*checkpoints*: byte offsets at which the program had gone quiet waiting for the
next key. The differential test replays each checkpoint prefix as well as the
whole stream, because a full-screen program's interesting screen is gone once it
leaves the alternate screen.

Needs vim, less, top (procps), git, bash; ``apt-get install -y vim less procps``.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ptyprocess import PtyProcess

CORPUS = Path(__file__).resolve().parent
MAX_BYTES = 200_000


@dataclass(frozen=True)
class Send:
    """Type these bytes."""

    data: bytes


@dataclass(frozen=True)
class Wait:
    """Keep reading output for this many seconds."""

    seconds: float


@dataclass(frozen=True)
class Quiet:
    """Read until no output arrived for ``idle`` seconds (at most ``limit``)."""

    idle: float = 0.3
    limit: float = 10.0


@dataclass(frozen=True)
class Mark:
    """Record a checkpoint at the current end of the output."""


Step = Send | Wait | Quiet | Mark


@dataclass
class Recording:
    """One corpus entry: what to run, how to drive it, at which size."""

    name: str
    description: str
    argv: Callable[[Path], list[str]]
    steps: list[Step]
    cols: int = 80
    rows: int = 24
    env: dict[str, str] = field(default_factory=dict)
    setup: Callable[[Path], None] | None = None


class Session:
    """A command on a PTY whose output is collected into one buffer."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str], cols: int, rows: int):
        self.proc = PtyProcess.spawn(argv, cwd=str(cwd), env=env, dimensions=(rows, cols))
        self.output = bytearray()

    def pump(self, timeout: float) -> bool:
        """Read whatever arrives within ``timeout``; False once the program is gone."""
        ready, _, _ = select.select([self.proc.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.proc.fd, 65536)
        except OSError:  # EIO: the child closed its side
            return False
        if not chunk:
            return False
        self.output += chunk
        return True

    def run(self, step: Step, checkpoints: list[int]) -> None:
        """Perform one scripted step."""
        if isinstance(step, Send):
            # Type one key at a time, like a person; programs may read key by key.
            for i in range(len(step.data)):
                self.proc.write(step.data[i : i + 1])
                self.pump(0.005)
        elif isinstance(step, Wait):
            end = time.monotonic() + step.seconds
            while time.monotonic() < end and self.pump(end - time.monotonic()):
                pass
        elif isinstance(step, Quiet):
            end = time.monotonic() + step.limit
            while time.monotonic() < end:
                before = len(self.output)
                if not self.pump(step.idle):
                    break
                if len(self.output) == before:
                    break
        else:
            checkpoints.append(len(self.output))

    def finish(self, timeout: float = 5.0) -> None:
        """Drain output until the program exits (or kill it after ``timeout``)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.pump(0.1):
            if not self.proc.isalive():
                while self.pump(0.05):
                    pass
                break
        if self.proc.isalive():
            self.proc.terminate(force=True)


# ---------------------------------------------------------------------------
# Setup helpers: every input file is generated, so a re-recording is comparable.


def _python_source(work: Path) -> None:
    """A Python file long enough to scroll, with strings, comments, numbers."""
    lines = ['"""A module for vim to highlight."""', "", "import os", "", ""]
    for i in range(60):
        lines += [
            f"def function_{i}(value: int = {i}) -> str:",
            f"    # comment number {i}: tabs\tand 'quotes'",
            f'    return f"{{value!r}} {i}" + os.sep * {i % 4}',
            "",
        ]
    (work / "sample.py").write_text("\n".join(lines) + "\n")


def _coloured_text(work: Path) -> None:
    """A long file of SGR-coloured lines (16, 256 and truecolour) for less -R."""
    out = []
    for i in range(200):
        fg16 = 31 + i % 7
        out.append(
            f"\x1b[{fg16}mline {i:3d}\x1b[0m \x1b[1mbold\x1b[22m "
            f"\x1b[38;5;{i % 256}m256:{i % 256}\x1b[39m "
            f"\x1b[48;2;{i % 256};40;{255 - i % 256}mtruecolour bg\x1b[49m "
            f"\x1b[4munder\x1b[24m \x1b[7mrev\x1b[27m {'中文' if i % 5 == 0 else 'text'} end"
        )
    (work / "colours.txt").write_text("\n".join(out) + "\n")


def _git_repo(work: Path) -> None:
    """A small repository with branches and a merge, with fixed dates."""
    repo = work / "repo"
    repo.mkdir()
    env = {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(work / "gitconfig"),
        "GIT_AUTHOR_NAME": "Ada",
        "GIT_AUTHOR_EMAIL": "ada@example.invalid",
        "GIT_COMMITTER_NAME": "Ada",
        "GIT_COMMITTER_EMAIL": "ada@example.invalid",
    }
    (work / "gitconfig").write_text("[init]\n\tdefaultBranch = main\n")

    def git(*args: str, date: int = 0) -> None:
        stamp = f"{1_700_000_000 + date * 3600} +0000"
        subprocess.run(
            ["git", *args],
            cwd=repo,
            env={**env, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp},
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    for n in range(6):
        (repo / f"file{n}.txt").write_text("".join(f"line {k}\n" for k in range(n * 7 + 3)))
        git("add", ".")
        git("commit", "-q", "-m", f"Add file{n} with {n * 7 + 3} lines", date=n)
    git("checkout", "-q", "-b", "feature")
    for n in range(3):
        (repo / "feature.txt").write_text("x\n" * (n + 1) * 10)
        git("add", ".")
        git("commit", "-q", "-m", f"Feature step {n}: grow feature.txt", date=10 + n)
    git("checkout", "-q", "main")
    (repo / "file0.txt").write_text("changed on main\n")
    git("commit", "-q", "-am", "Change file0 on main", date=20)
    git("merge", "-q", "--no-ff", "-m", "Merge branch 'feature'", "feature", date=21)
    git("tag", "v1.0", date=22)


def _corpus_script(name: str) -> Callable[[Path], list[str]]:
    """Run one of the helper programs that live next to this file."""
    return lambda work: [sys.executable, str(CORPUS / name)]


BASH = ["bash", "--norc", "--noprofile", "-i"]

RECORDINGS = [
    Recording(
        "vim",
        "vim --clean on a Python file: syntax colours, :set number, page down, G, gg, :q!",
        lambda work: ["vim", "--clean", "-n", "sample.py"],
        [
            Quiet(0.5),
            Mark(),
            Send(b":set number\r"),
            Quiet(),
            Send(b"\x06"),  # ctrl-f: page down
            Quiet(),
            Mark(),
            Send(b"G"),
            Quiet(),
            Send(b"gg"),
            Quiet(),
            Send(b"10jdd"),
            Quiet(),
            Mark(),
            Send(b":q!\r"),
        ],
        setup=_python_source,
    ),
    Recording(
        "less",
        "less -R on a long file of coloured lines: page down twice, back, search, q",
        lambda work: ["less", "-R", "colours.txt"],
        [
            Quiet(),
            Mark(),
            Send(b" "),
            Quiet(),
            Send(b" "),
            Quiet(),
            Send(b"b"),
            Quiet(),
            Mark(),
            Send(b"/line 1[05]\r"),
            Quiet(),
            Mark(),
            Send(b"q"),
        ],
        env={"LESS": "", "LESSHISTFILE": "-"},
        setup=_coloured_text,
    ),
    Recording(
        "top",
        "interactive top -d 0.2 at 120x40 for about a second, then q",
        lambda work: ["top", "-d", "0.2"],
        [Wait(1.2), Mark(), Send(b"q")],
        cols=120,
        rows=40,
    ),
    Recording(
        "git_log",
        "git -c color.ui=always --no-pager log --graph --stat --all on a small repo; scrolls",
        lambda work: [
            "git",
            "-C",
            str(work / "repo"),
            "-c",
            "color.ui=always",
            "--no-pager",
            "log",
            "--graph",
            "--stat",
            "--all",
            "--decorate",
        ],
        [Quiet()],
        setup=_git_repo,
    ),
    Recording(
        "curses_app",
        "corpus/curses_app.py: boxes, colour pairs (16/256), attributes, ACS, a scrolling window",
        _corpus_script("curses_app.py"),
        [Quiet(0.5), Mark(), Send(b"q")],
    ),
    Recording(
        "textual_app",
        "corpus/textual_app.py at 120x40, COLORTERM=truecolor: widgets, exits after ~2.5 s",
        _corpus_script("textual_app.py"),
        [Quiet(0.4, limit=20), Mark(), Wait(3)],
        cols=120,
        rows=40,
        env={"COLORTERM": "truecolor"},
    ),
    Recording(
        "shell_unicode",
        "bash --norc: printf/echo of emoji (VS16, ZWJ, flags), CJK, combining marks; "
        "readline editing of wide characters; a CJK line that wraps",
        lambda work: BASH,
        [
            Quiet(),
            Send("printf '⚠️ Warning | 👨‍👩‍👧 family | 🇫🇷🇯🇵 flags | ✔ ok\\n'\r".encode()),
            Quiet(),
            Send("echo 中文字符 テスト 한국어 e\u0301 a\u0308 n\u0303o\r".encode()),
            Quiet(),
            Send(b"printf 'a%.0s' 1; printf '\\xe4\\xb8\\xad%.0s' $(seq 45); echo\r"),
            Quiet(),
            Mark(),
            Send("echo 日本語のテキスト".encode()),
            Send(b"\x1b[D\x1b[D\x1b[DX\x01#\x05\x7f!\r"),  # left x3, X, home, #, end, BS, !
            Quiet(),
            Send(b"printf '\\xf0\\x9f\\x98\\x80%.0s' $(seq 50); echo\r"),
            Quiet(),
            Mark(),
            Send(b"exit\r"),
        ],
        env={"PS1": "$ ", "HISTFILE": "/dev/null"},
    ),
    Recording(
        "scroll_tricks",
        "corpus/scroll_tricks.py: DECSTBM + LF/RI scrolling, SU/SD, IL/DL inside a region, "
        "origin mode",
        _corpus_script("scroll_tricks.py"),
        [Quiet()],
    ),
]


def record(rec: Recording) -> dict[str, object]:
    """Run one recording; write ``<name>.bin``; return its manifest entry."""
    with tempfile.TemporaryDirectory(prefix=f"ptui-record-{rec.name}-") as tmp:
        work = Path(tmp)
        if rec.setup is not None:
            rec.setup(work)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(work),
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            **rec.env,
        }
        session = Session(rec.argv(work), work, env, rec.cols, rec.rows)
        checkpoints: list[int] = []
        for step in rec.steps:
            session.run(step, checkpoints)
        session.finish()
    data = bytes(session.output)
    if len(data) > MAX_BYTES:
        raise SystemExit(f"{rec.name}: {len(data)} bytes, over the {MAX_BYTES} limit")
    (CORPUS / f"{rec.name}.bin").write_bytes(data)
    print(f"{rec.name}: {len(data)} bytes, checkpoints {checkpoints}")
    return {
        "cols": rec.cols,
        "rows": rec.rows,
        "checkpoints": checkpoints,
        "description": rec.description,
    }


def main(names: list[str]) -> None:
    """Record the named recordings (all if none) and update manifest.json."""
    for tool in ("vim", "less", "top", "git", "bash"):
        if shutil.which(tool) is None:
            print(f"warning: {tool} is not installed", file=sys.stderr)
    manifest_path = CORPUS / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    wanted = set(names)
    for rec in RECORDINGS:
        if not wanted or rec.name in wanted:
            manifest[rec.name] = record(rec)
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
