"""Scroll-region tricks for the corpus, written to a real PTY by ``record.py``.

DECSTBM with LF/RI scrolling, SU/SD, IL/DL inside the region,
origin mode, and a region reset; the way agents and pagers grow viewports.
"""

from __future__ import annotations

import sys

CSI = "\x1b["


def main() -> None:
    """Write the sequences in one go."""
    out: list[str] = [f"{CSI}H{CSI}2J"]
    for row in range(1, 25):
        out.append(f"{CSI}{row};1Hrow {row:02d} " + "-" * (row % 10) + f" {CSI}3{row % 8}m*{CSI}0m")
    # A region in the middle; LF at its bottom scrolls only the region.
    out.append(f"{CSI}5;12r{CSI}12;1H")
    out += [f"\nscrolled {i}" for i in range(4)]
    # RI at the top of the region scrolls it down.
    out.append(f"{CSI}5;1H\x1bM\x1bMreverse-indexed")
    # SU / SD inside the region, with a coloured background to show erased lines.
    out.append(f"{CSI}44m{CSI}2S{CSI}1T{CSI}0m")
    # IL / DL with the cursor inside the region, in column 1 (xterm moves the
    # cursor there, tmux does not; test_differential covers that on its own).
    out.append(f"{CSI}8;1H{CSI}2Linserted{CSI}10;1H{CSI}1M")
    # Origin mode: CUP is relative to the region and clamped to it.
    out.append(f"{CSI}?6h{CSI}1;1Horigin-top{CSI}99;5Horigin-clamped{CSI}?6l")
    # A one-line region is invalid and ignored (the 5;12 region stays), so LF on
    # the last row, below the region, cannot scroll: the lines overwrite each other.
    out.append(f"{CSI}24;24r{CSI}24;1H")
    out += [f"\nstatus {i}" for i in range(3)]
    # Reset the region; a full-screen scroll pushes one line into history.
    out.append(f"{CSI}r{CSI}24;1H\nlast line{CSI}3;40H")
    sys.stdout.write("".join(out))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
