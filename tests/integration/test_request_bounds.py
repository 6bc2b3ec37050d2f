"""A real node process under bodies far larger than it accepts: refused as the bytes arrive,
chunked or not, whatever the content type, without the process's memory following them."""

from __future__ import annotations

import select
import socket
import subprocess
from pathlib import Path

import pytest

from .harness import Node, make_node

pytestmark = pytest.mark.slow  # node processes

CHUNK = 64 * 1024
SENT_AT_MOST = 300 * 1024 * 1024


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _chunked_post(port: int, path: str, content_type: str) -> tuple[int, bytes, int]:
    """POST up to `SENT_AT_MOST` bytes as chunks until the node answers or hangs up; the status,
    the answer's bytes, and how much was sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sock.sendall(head.encode())
        frame = f"{CHUNK:x}\r\n".encode() + b"a" * CHUNK + b"\r\n"
        sent = 0
        try:
            while sent < SENT_AT_MOST:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                sock.sendall(frame)
                sent += CHUNK
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
        except (ConnectionResetError, TimeoutError):
            pass
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return status, answer, sent


@pytest.fixture
def node(tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> Node:
    node = make_node(tmp_path, "KE", processes)
    node.start()
    return node


@pytest.mark.parametrize("content_type", ["application/json", "application/octet-stream"])
def test_a_huge_chunked_body_is_refused_as_it_arrives(node: Node, content_type: str) -> None:
    assert node.process is not None
    before = _rss_kib(node.process.pid)

    status, answer, sent = _chunked_post(node.port, "/verify", content_type)

    assert status == 413, answer[:500]
    assert b"request bodies are limited to 1048576 bytes" in answer
    assert sent < SENT_AT_MOST  # the node answered long before the end
    grown_kib = _rss_kib(node.process.pid) - before
    assert grown_kib < 8 * 1024, f"the node's memory grew by {grown_kib} KiB"
