"""`ptui demo`: a throwaway repository and an agent that needs no install.

`tui.demo.agent` is a small interactive program that behaves like a coding agent
on its PTY (spinner, file edits, an approval question, a prompt); `tui.demo.repo`
builds the small project it works on.
"""
