"""A peer on loopback that answers one byte at a time: the headers of a large 200 at once, then
a byte of the body every `interval` seconds, for as long as the client keeps reading."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

BODY_BYTES = 100_000


@contextmanager
def slow_peer(interval: float = 0.5) -> Iterator[tuple[int, list[float]]]:
    """The port it listens on, and how many connections it accepted (one entry each)."""
    stop = threading.Event()
    accepted: list[float] = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    port: int = server.getsockname()[1]

    def answer(connection: socket.socket) -> None:
        with connection:
            connection.settimeout(5)
            try:
                connection.recv(65536)  # the request; its content does not matter
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/vc+jwt\r\n"
                    + f"Content-Length: {BODY_BYTES}\r\n\r\n".encode()
                )
                for _ in range(BODY_BYTES):
                    if stop.wait(interval):
                        return
                    connection.sendall(b"e")
            except OSError:
                return  # the client gave up: what the tests expect

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            accepted.append(1.0)
            threading.Thread(target=answer, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port, accepted
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()
