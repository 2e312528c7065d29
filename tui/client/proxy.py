"""`ptui proxy`: bridge stdin/stdout to the local server's socket, byte for byte.

This is what `ptui --host box` runs on the far side through ssh. Frames are not
parsed here: the server checks them, exactly as for a local client. The server
is started on demand; the proxy ends when either side closes.
"""

from __future__ import annotations

import os
import select
import socket
import sys

from tui.client.connection import connect_socket

_CHUNK = 1 << 16


def run_proxy() -> int:
    """Copy stdin to the socket and the socket to stdout until one side closes."""
    sock = connect_socket(start=True)
    stdin, stdout = sys.stdin.buffer.fileno(), sys.stdout.buffer.fileno()
    sock_fd = sock.fileno()
    open_in = True
    try:
        while True:
            readers = [sock_fd, stdin] if open_in else [sock_fd]
            ready, _, _ = select.select(readers, [], [])
            if sock_fd in ready:
                data = sock.recv(_CHUNK)
                if not data:
                    return 0
                _write_all(stdout, data)
            if open_in and stdin in ready:
                data = os.read(stdin, _CHUNK)
                if not data:
                    # The client went away: let the server see EOF, keep draining.
                    open_in = False
                    sock.shutdown(socket.SHUT_WR)
                else:
                    sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        return 0
    finally:
        sock.close()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
