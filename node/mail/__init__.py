"""Mail to people (invitations, password resets, notices), sent from an outbox in the database.

`enqueue(...)` adds a message in the caller's transaction: it is sent only if that transaction
commits, and never lost once it has. The sender task (`tasks.mail_sender`) delivers what is due
through SMTP, retrying with back-off while the server is down.
"""

from .service import MailText, enqueue

__all__ = ["MailText", "enqueue"]
