"""The Textual client: widgets, screens, bindings, themes."""
