"""The demo's mail server saves every mail it receives as a file, and says where."""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage
from pathlib import Path

from sdgcities.cli.demo.mail_sink import mail_sink


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_every_mail_becomes_a_file(tmp_path: Path) -> None:
    saved: list[tuple[Path, str]] = []
    with mail_sink(
        tmp_path / "mail",
        _free_port(),
        on_saved=lambda path, subject: saved.append((path, subject)),
    ) as sink:
        assert sink.env["SDGCITIES_MAIL_PORT"] == str(sink.port)
        for n in range(2):
            mail = EmailMessage()
            mail["From"] = "node@localhost"
            mail["To"] = "amina@example.org"
            mail["Subject"] = f"Invitation {n}"
            mail.set_content("Open the link")
            with smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as client:
                client.send_message(mail)
    files = sorted((tmp_path / "mail").iterdir())
    assert [path.name for path in files] == [
        "0001-amina@example.org.eml",
        "0002-amina@example.org.eml",
    ]
    assert b"Open the link" in files[0].read_bytes()
    assert saved == [(files[0], "Invitation 0"), (files[1], "Invitation 1")]
