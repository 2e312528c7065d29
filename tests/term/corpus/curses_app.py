"""A small curses program for the corpus: boxes, colours, attributes, scrolling.

Draws, changes a few cells (so curses emits cursor-motion optimisations), scrolls
a window with a scroll region, then waits for ``q``. Recorded by ``record.py``.
"""

from __future__ import annotations

import curses


def main(stdscr: curses.window) -> None:
    """Draw the screen, update it twice, wait for q."""
    curses.start_color()
    curses.use_default_colors()
    curses.curs_set(0)
    curses.init_pair(1, curses.COLOR_RED, -1)
    curses.init_pair(2, curses.COLOR_GREEN, curses.COLOR_BLUE)
    curses.init_pair(3, curses.COLOR_YELLOW, curses.COLOR_MAGENTA)
    wide = curses.COLORS >= 256
    curses.init_pair(4, 208 if wide else curses.COLOR_YELLOW, -1)
    curses.init_pair(5, curses.COLOR_WHITE, 24 if wide else curses.COLOR_BLUE)
    curses.init_pair(6, 12 if curses.COLORS >= 16 else curses.COLOR_BLUE, -1)

    stdscr.box()
    stdscr.addstr(0, 3, " curses corpus ", curses.A_BOLD | curses.A_UNDERLINE)
    attrs = [
        ("normal", curses.A_NORMAL),
        ("bold", curses.A_BOLD),
        ("dim", curses.A_DIM),
        ("reverse", curses.A_REVERSE),
        ("underline", curses.A_UNDERLINE),
        ("standout", curses.A_STANDOUT),
        ("italic", getattr(curses, "A_ITALIC", curses.A_NORMAL)),
        ("blink", curses.A_BLINK),
    ]
    for row, (name, attr) in enumerate(attrs, start=2):
        stdscr.addstr(row, 2, f"{name:<10}", attr)
        stdscr.addstr(row, 14, f"pair {row - 1}", curses.color_pair(row % 6 + 1) | attr)

    # A bordered sub-window with ACS characters drawn explicitly.
    box = stdscr.derwin(7, 30, 2, 30)
    box.bkgd(" ", curses.color_pair(5))
    box.box()
    box.addstr(1, 2, "inside a coloured box", curses.color_pair(5) | curses.A_BOLD)
    box.addch(3, 2, curses.ACS_CKBOARD)
    box.addch(3, 3, curses.ACS_DIAMOND)
    box.addch(3, 4, curses.ACS_PLMINUS)
    box.hline(4, 1, curses.ACS_HLINE, 28)
    box.addstr(5, 2, "pair 4 orange", curses.color_pair(4))

    # A scrolling log window: curses uses a scroll region to scroll it.
    log = stdscr.derwin(8, 40, 12, 2)
    log.scrollok(True)
    log.idlok(True)
    stdscr.refresh()
    for i in range(20):
        log.addstr(f"log line {i:2d} {'#' * (i % 9)}\n", curses.color_pair(i % 6 + 1))
        log.refresh()

    # Change a few cells so curses emits cursor-motion optimisations.
    curses.napms(150)
    stdscr.addstr(2, 14, "changed", curses.color_pair(3))
    stdscr.addstr(21, 50, "status: ready", curses.A_REVERSE)
    stdscr.move(22, 2)
    stdscr.clrtoeol()
    stdscr.box()
    stdscr.refresh()
    stdscr.timeout(5000)
    while stdscr.getch() not in (ord("q"), -1):
        pass


if __name__ == "__main__":
    curses.wrapper(main)
