"""Talking to the session host: the one way the app and the CLI reach it.

- `connection`: `Client` (blocking, for the CLI and benches), `EarlyConnection`
  (connects on a thread while the app imports Textual), ssh transport, errors;
- `async_client`: `AsyncClient`, the asyncio client of the app;
- `spawn`: starting the local server on demand, finding its pid;
- `mirror`: `ScreenMirror`, a tab's screen rebuilt from `screen` events;
- `attach`: `ptui attach`, a session full screen in this terminal;
- `proxy`: `ptui proxy`, stdin/stdout to the local socket (what `--host` runs).

Every request is a `tui.protocol.messages` type and its answer comes back typed
and checked (`client.request(SessionCreate(task=...))`); nothing here imports
the session host (`tui.server`) or Textual.
"""
