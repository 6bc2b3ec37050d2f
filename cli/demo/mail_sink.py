"""The demo's mail server: it accepts every mail the nodes send and saves it as a file.

Nodes send invitations and password resets through SMTP from their outbox; in the demo they
send them here (aiosmtpd on loopback), and each mail becomes `<data folder>/mail/NNNN-<to>.eml`,
which any mail program opens. Nothing leaves the machine.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from .federation import LOOPBACK

_UNSAFE = re.compile(r"[^A-Za-z0-9@._-]+")


class _SaveToFolder:
    def __init__(self, folder: Path, on_saved: Callable[[Path, str], None]) -> None:
        self.folder = folder
        self.on_saved = on_saved
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        content: bytes = envelope.content
        subject = str(message_from_bytes(content, policy=policy.default)["Subject"] or "")
        recipient = _UNSAFE.sub("_", ",".join(envelope.rcpt_tos))[:80]
        with self._lock:
            path = self.folder / f"{next(self._numbers):04d}-{recipient}.eml"
            path.write_bytes(content)
        self.on_saved(path, subject)
        return "250 Saved"


@dataclass(frozen=True, slots=True)
class MailSink:
    port: int
    folder: Path

    @property
    def env(self) -> dict[str, str]:
        """What a node needs to send its mail here (quickly: the demo is watched live)."""
        return {
            "SDGCITIES_MAIL_HOST": LOOPBACK,
            "SDGCITIES_MAIL_PORT": str(self.port),
            "SDGCITIES_MAIL_FROM": "sdgcities-demo@localhost",
            "SDGCITIES_MAIL_INTERVAL_SECONDS": "1",
        }


@contextmanager
def mail_sink(
    folder: Path, port: int, on_saved: Callable[[Path, str], None] = lambda _path, _subject: None
) -> Iterator[MailSink]:
    """An SMTP server on `127.0.0.1:port` saving every mail under `folder`, while open."""
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(_SaveToFolder(folder, on_saved), hostname=LOOPBACK, port=port)
    controller.start()
    try:
        yield MailSink(port=port, folder=folder)
    finally:
        controller.stop()
