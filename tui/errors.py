"""Errors that reach the user as one clear line (never a traceback)."""


class PtuiError(Exception):
    """A problem caused by input or environment, reported as one line.

    The message should name the place (a file and line, a session, a branch) and
    what is wrong. `tui.cli` prints it as `ptui: error: <message>` and exits 1.
    """


class UsageError(PtuiError):
    """Bad command-line usage; the CLI exits with status 2."""
