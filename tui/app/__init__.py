"""The Textual client: widgets, screens, bindings, themes."""

import os

# Textual draws on a fixed frame grid (1/TEXTUAL_FPS s, read when textual is first
# imported): a keystroke's echo or a session switch that lands just after a frame
# waits for the next one. At 60 that wait was most of a switch (`ptui bench ui`:
# median 30 ms at 60, 20 ms at 240). The frame *rate* stays bounded by what
# changes: the server sends a tab's screen at most 60 times a second. A user's
# own TEXTUAL_FPS wins.
os.environ.setdefault("TEXTUAL_FPS", "240")
