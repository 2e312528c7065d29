"""Screens of the Textual client, one module (and .tcss) each."""
