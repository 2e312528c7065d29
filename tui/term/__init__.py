"""Terminal engine: PTY processes, the pyte-based emulator, key encoding, line model.

Headless: never imports textual, never touches git.
"""
