"""Reusable widgets of the Textual client, one module per widget."""
