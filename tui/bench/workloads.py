"""Byte workloads that look like what coding agents print.

Seen in real agents before ptui was written: Codex CLI draws on the alternate
screen and grows its viewport with DECSTBM + `CSI S`; Claude Code (Ink) redraws
lines heavily, inside `?2026` synchronized output on some TERMs.

- `agent`: scrolling coloured agent output — 16/256/truecolour SGR, CR+EL
  spinners, cursor moves, lines that wrap, ~10% CJK and emoji.
- `redraw`: full-screen redraws — Ink-style frames (`CSI 2K` + `CSI 1A` up the
  frame, then the new frame) and ratatui-style frames (CUP + SGR per row inside
  synchronized output `?2026h` ... `?2026l`).

Both are generated from a seed so every run measures the same bytes.
"""

from __future__ import annotations

import random

from wcwidth import wcswidth

_WORDS = [
    "the",
    "agent",
    "reads",
    "src/app.py",
    "and",
    "updates",
    "the",
    "handler",
    "so",
    "tests",
    "pass",
    "refactor",
    "function",
    "import",
    "module",
    "return",
    "value",
    "error",
    "warning",
    "pytest",
    "passed",
    "failed",
    "commit",
    "branch",
    "worktree",
    "diff",
    "merge",
    "build",
    "install",
    "npm",
    "cargo",
    "running",
    "checking",
]
_WIDE = ["中文", "日本語", "한국어", "✅", "🚀", "⚠️", "👍", "🔥", "漢字", "测试"]
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_THEME = [((37 * i) % 256, (91 * i + 40) % 256, (53 * i + 90) % 256) for i in range(32)]


def _sgr_colour(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.4:
        return f"\x1b[{rng.choice((31, 32, 33, 34, 35, 36, 90, 91, 92))}m"
    if kind < 0.7:
        return f"\x1b[38;5;{rng.randrange(256)}m"
    # Agents draw truecolour from their theme: a few dozen colours, not random ones.
    r, g, b = _THEME[rng.randrange(len(_THEME))]
    return f"\x1b[38;2;{r};{g};{b}m"


def _sentence(rng: random.Random, words: int) -> str:
    out = []
    for _ in range(words):
        if rng.random() < 0.1:
            out.append(rng.choice(_WIDE))
        else:
            out.append(rng.choice(_WORDS))
    return " ".join(out)


def agent_workload(size: int, seed: int = 1, cols: int = 200) -> bytes:
    """About `size` bytes of scrolling, coloured agent output."""
    rng = random.Random(seed)
    parts: list[bytes] = []
    total = 0
    while total < size:
        r = rng.random()
        if r < 0.08:
            # A spinner line rewritten in place a few times (CR + EL), then kept.
            frames = [
                f"\r\x1b[2K\x1b[36m{_SPINNER[i % len(_SPINNER)]}\x1b[0m Working… ({i}s)"
                for i in range(rng.randrange(3, 8))
            ]
            text = "".join(frames) + "\r\x1b[2K\x1b[32m✓\x1b[0m Done\r\n"
        elif r < 0.12:
            # Cursor moves: go up, patch a status word, come back down.
            text = f"\x1b[2A\x1b[{rng.randrange(1, 40)}G\x1b[1;33mEDIT\x1b[0m\x1b[2B\r"
        elif r < 0.18:
            # A long line that wraps at the right margin.
            text = _sentence(rng, rng.randrange(40, 70)) + "\r\n"
        else:
            pieces = []
            for _ in range(rng.randrange(2, 6)):
                pieces.append(_sgr_colour(rng))
                if rng.random() < 0.2:
                    pieces.append("\x1b[1m")
                pieces.append(_sentence(rng, rng.randrange(2, 6)))
                pieces.append("\x1b[0m ")
            text = "".join(pieces) + "\r\n"
        data = text.encode()
        parts.append(data)
        total += len(data)
    return b"".join(parts)


def redraw_workload(size: int, seed: int = 2, cols: int = 200, rows: int = 50) -> bytes:
    """About `size` bytes of full-screen redraws, Ink- and ratatui-style alternating."""
    rng = random.Random(seed)
    out: list[bytes] = []
    total = 0
    frame_no = 0
    height = 20
    while total < size:
        frame_no += 1
        if frame_no % 2:
            # Ink: erase the previous frame line by line going up, then print the new one.
            erase = "\x1b[2K\x1b[1A" * (height - 1) + "\x1b[2K\r"
            body = []
            for _ in range(height):
                colour = _sgr_colour(rng)
                text = _sentence(rng, rng.randrange(3, 12))[: cols - 4]
                body.append(f"{colour}│\x1b[0m {text}")
            chunk = erase + "\r\n".join(body)
        else:
            # ratatui through crossterm: a synchronized frame; per row a CUP, then per
            # span separate foreground and background SGRs and the text, the row
            # filled to the last column; colours reset once at the end of the frame.
            body = ["\x1b[?2026h"]
            for y in range(1, rows + 1):
                body.append(f"\x1b[{y};1H")
                x = 0
                while x < cols:
                    piece = _sentence(rng, rng.randrange(1, 4))
                    while piece and x + wcswidth(piece) > cols:
                        piece = piece[:-1]
                    if not piece or wcswidth(piece) < 0:
                        piece = " " * (cols - x)
                    body.append(f"\x1b[38;5;{rng.randrange(256)}m\x1b[48;5;{rng.randrange(8)}m")
                    body.append(piece)
                    x += wcswidth(piece)
            body.append("\x1b[39m\x1b[49m\x1b[59m\x1b[0m\x1b[?2026l")
            chunk = "".join(body)
        data = chunk.encode()
        out.append(data)
        total += len(data)
    return b"".join(out)


def scrollback_lines(count: int, seed: int = 3, cols: int = 200) -> bytes:
    """`count` full-width coloured lines (for scrollback memory measurements)."""
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        pieces = []
        width = 0
        while width < cols:
            word = rng.choice(_WORDS)
            word = word[: cols - width]
            pieces.append(_sgr_colour(rng) + word)
            width += len(word)
            if width < cols:
                pieces.append(" ")
                width += 1
        lines.append("".join(pieces) + "\x1b[0m\r\n")
    return "".join(lines).encode()
