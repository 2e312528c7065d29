"""`ptui bench`: benchmarks measured side by side with their anchor (git CLI, tmux),
the crash benchmark, which counts what a kill -9 of the server loses, and the
flood benchmark, which holds the server to a bounded memory per slow client."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.cli.common import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add `ptui bench` and its sub-verbs."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "bench",
        help="measure ptui against the git CLI and tmux; count what a crash loses",
        description="Each benchmark prints ptui's figures beside its anchor, same run.",
    )
    sub = parser.add_subparsers(dest="bench", metavar="BENCH", required=True)

    git = sub.add_parser(
        "git",
        help="session create and 1,000-file diff stat vs git worktree add / git diff --stat",
    )
    git.add_argument("--files", type=int, default=1000, help="files in the change (default 1000)")
    git.add_argument("--repeat", type=int, default=7, help="runs per measurement (default 7)")
    git.add_argument("--json", action="store_true", help="print figures as JSON")
    git.set_defaults(func=_run_git)

    term = sub.add_parser(
        "terminal",
        help="PTY -> emulator -> line model throughput vs tmux, scrollback memory",
    )
    term.add_argument(
        "--workload",
        default=None,
        help="agent, redraw, or a PATH of bytes to replay (default: agent and redraw)",
    )
    term.add_argument("--vs-tmux", action="store_true", help="measure tmux in the same run")
    term.add_argument("--json", action="store_true", help="print figures as JSON")
    term.add_argument("--mb", type=float, default=8.0, help="MiB per workload (default 8)")
    term.set_defaults(func=_run_terminal)

    latency = sub.add_parser(
        "latency",
        help="keystroke -> echo through the session host (idle, under flood) vs tmux",
        description="Time a key's echo through server and client, idle and while another "
        "session floods output; server CPU with 20 idle sessions; 50 sessions alive.",
    )
    latency.add_argument("--vs-tmux", action="store_true", help="measure tmux in the same run")
    latency.add_argument("--json", action="store_true", help="print figures as JSON")
    latency.add_argument("--samples", type=int, default=200, help="keys per case (default 200)")
    latency.set_defaults(func=_run_latency)

    ui = sub.add_parser(
        "ui",
        help="the app in tmux: first frame, session switch, echo vs host only, fps under flood",
        description="Drive `ptui` in tmux: time to the first frame, alt+1/alt+2 switches, "
        "keystroke echo through the app beside the host-only figure, and the frame rate of "
        "the shown session while another floods. Progress on stderr.",
    )
    ui.add_argument("--json", action="store_true", help="print figures as JSON")
    ui.add_argument("--samples", type=int, default=40, help="switches and keys (default 40)")
    ui.set_defaults(func=_run_ui)

    crash = sub.add_parser(
        "crash",
        help="kill -9 the server inside random operations; count lost files and manual steps",
        description="In a scratch repository under a temporary HOME: sessions with tricky "
        "trees, a concurrent writer, a random operation killed at a random journal step "
        "(PTUI_FAULT), then ptui's own recovery. Checks every file against a manifest, that "
        "the verbs fitting each session's state work and that `ptui doctor` is clean. Exit 1 "
        "when a file was lost or a round needed a manual step. Progress on stderr.",
    )
    crash.add_argument("--rounds", type=int, default=20, help="rounds (default 20)")
    crash.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    crash.add_argument(
        "--big-mb", type=float, default=20.0, help="size of each tree's binary (default 20)"
    )
    crash.add_argument("--json", action="store_true", help="print figures as JSON")
    crash.set_defaults(func=_run_crash)

    flood = sub.add_parser(
        "flood",
        help="a client that stops reading while a session floods bells and OSC 52: "
        "server memory, another client's ls",
        description="In a temporary HOME with its own server: a session prints BEL and a "
        "30 KB OSC 52 in a loop, one subscribed client never reads. Samples the server's "
        "RSS and a fresh client's session.list every 0.5 s, and whether the server "
        "disconnected the non-reader (and why). Exit 1 when RSS grew over 50 MB or ls "
        "took 100 ms or more.",
    )
    flood.add_argument("--seconds", type=float, default=12.0, help="flood time (default 12)")
    flood.add_argument("--json", action="store_true", help="print figures as JSON")
    flood.set_defaults(func=_run_flood)

    status = sub.add_parser(
        "status",
        help="the status engine on the labelled corpus of agent recordings: accuracy, latency",
        description="Replay every asciicast recording of the corpus (real agents, and "
        "synthetic screens built from their published texts, reported apart) through the "
        "emulator, the agents' shipped rules and the status engine, in virtual time. "
        "Accuracy is the share of labelled moments whose status matches; latency runs from "
        "the decisive byte to the status change. Exit 1 when a real moment is wrong.",
    )
    status.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="folder of .cast recordings with .labels.toml (default: tests/status/corpus "
        "of this checkout)",
    )
    status.add_argument("--json", action="store_true", help="print figures as JSON")
    status.set_defaults(func=_run_status)


def _run_git(args: argparse.Namespace) -> int:
    from tui.bench.git_bench import run

    return run(files=args.files, repeat=args.repeat, as_json=args.json)


def _run_terminal(args: argparse.Namespace) -> int:
    from tui.bench.terminal_bench import run

    return run(workload=args.workload, vs_tmux=args.vs_tmux, as_json=args.json, mb=args.mb)


def _run_latency(args: argparse.Namespace) -> int:
    from tui.bench.latency_bench import run

    return run(vs_tmux=args.vs_tmux, as_json=args.json, samples=args.samples)


def _run_ui(args: argparse.Namespace) -> int:
    from tui.bench.ui_bench import run

    return run(as_json=args.json, samples=args.samples)


def _run_crash(args: argparse.Namespace) -> int:
    from tui.bench.crash_bench import run

    return run(rounds=args.rounds, seed=args.seed, as_json=args.json, big_mb=args.big_mb)


def _run_status(args: argparse.Namespace) -> int:
    import json

    from tui.bench import status_bench

    figures = status_bench.run(args.corpus or status_bench.DEFAULT_CORPUS)
    print(json.dumps(figures, indent=2) if args.json else status_bench.report(figures))
    wrong_real = figures["real"].get("right") != figures["real"].get("moments")
    return 1 if wrong_real else 0


def _run_flood(args: argparse.Namespace) -> int:
    from tui.bench.flood_bench import run

    return run(seconds=args.seconds, as_json=args.json)
