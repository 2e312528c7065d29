"""Errors that reach the user as one clear line (never a traceback)."""


class PtuiError(Exception):
    """A problem caused by input or environment, reported as one line.

    The message should name the place (a file and line, a session, a branch) and
    what is wrong. `tui.cli` prints it as `ptui: error: <message>` and exits 1.
    """


class UsageError(PtuiError):
    """Bad command-line usage; the CLI exits with status 2."""


class ServerError(PtuiError):
    """The server could not be started, reached or stopped."""


DOCTOR_HINT = "; run `ptui doctor`"
"""Ends the message of a StateError that `ptui doctor` can repair."""


class StateError(PtuiError):
    """The state database (or the old state file) cannot be used; the message is one line."""
