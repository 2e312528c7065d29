"""Every method of the protocol, named once (docs/protocol.md describes each).

A `Method` is a `str`, so it travels as itself in a frame and compares equal to
the name a client sent; code names methods only through this table, so a typo is
an AttributeError at import, not an `unknown-method` at run time.
"""

from __future__ import annotations

from enum import StrEnum


class Method(StrEnum):
    """A request's `method`."""

    HELLO = "hello"
    SERVER_STATUS = "server.status"
    SERVER_STOP = "server.stop"
    EVENTS_SUBSCRIBE = "events.subscribe"
    SESSION_LIST = "session.list"
    SESSION_INFO = "session.info"
    SESSION_CREATE = "session.create"
    SESSION_STOP = "session.stop"
    SESSION_RESUME = "session.resume"
    SESSION_ARCHIVE = "session.archive"
    SESSION_RESTORE = "session.restore"
    SESSION_REMOVE = "session.remove"
    SESSION_COMMIT = "session.commit"
    SESSION_MERGE = "session.merge"
    SESSION_RUN = "session.run"
    SESSION_SHELL = "session.shell"
    SESSION_SCREEN = "session.screen"
    SESSION_SCROLLBACK = "session.scrollback"
    SESSION_INPUT = "session.input"
    SESSION_PASTE = "session.paste"
    SESSION_RESIZE = "session.resize"
    SESSION_ATTACH = "session.attach"
    SESSION_DETACH = "session.detach"
    SERVER_DOCTOR = "server.doctor"
    TRUST_SHOW = "trust.show"
    TRUST_ADD = "trust.add"
    CLIENT_COLORS = "client.colors"
    SESSION_DIFF = "session.diff"
    SESSION_DIFF_FILES = "session.diff_files"
    SESSION_DIFF_FILE = "session.diff_file"
    SESSION_ARCHIVE_PLAN = "session.archive_plan"
    SESSION_MERGE_PREVIEW = "session.merge_preview"
    SESSION_SUMMARY = "session.summary"
    SESSION_SEND_TEST_FAILURE = "session.send_test_failure"
    REPO_BRANCHES = "repo.branches"
    REPO_SETTINGS = "repo.settings"
    SESSION_STATUS = "session.status"
    SESSION_RECORD = "session.record"
    SESSION_HOOK = "session.hook"
