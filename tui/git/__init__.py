"""Git core on pygit2: session worktrees, status, diffs, merge, overlap, archive.

Headless: never imports textual and never spawns agents.
"""
