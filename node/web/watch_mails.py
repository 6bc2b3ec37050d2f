"""The mails a watch's owner receives, in the watch's language: the confirmation, and notices.

They live beside the pages so that their messages are in the site's catalogues (`watches.po`).
"""

from __future__ import annotations

from sdgcities.node.mail import MailText

from .i18n import N_, translations

_CONFIRM_SUBJECT = N_("Confirm your watch on %(node)s")
_CONFIRM_BODY = N_(
    "Hello,\n\n"
    "Someone, probably you, asked %(node)s to send notices by %(channel)s about %(what)s when "
    "a certificate is issued, suspended, reinstated or revoked.\n\n"
    "Nothing will be sent until you confirm. To confirm, open this link within %(hours)s "
    "hours:\n\n"
    "%(link)s\n\n"
    "If you did not ask for this, ignore this message, or cancel the watch here:\n\n"
    "%(cancel)s"
)
_NOTICE_SUBJECT = N_("%(what)s: %(event)s")
_NOTICE_BODY = N_(
    "Hello,\n\n"
    "%(node)s reports on %(what)s, which you watch: %(event)s.\n\n"
    "City: %(city)s\n"
    "Stage: %(stage)s\n"
    "Level: %(level)s\n\n"
    "The certificate: %(certificate)s\n\n"
    "To stop these notices, cancel the watch here:\n\n"
    "%(cancel)s"
)
_EVENTS = {
    "credential.issued": N_("a certificate was issued"),
    "credential.suspended": N_("a certificate was suspended"),
    "credential.reinstated": N_("a certificate was reinstated"),
    "credential.revoked": N_("a certificate was revoked"),
}
_CHANNELS = {"email": N_("email"), "webhook": N_("webhook")}


def confirmation_mail(language: str, **values: object) -> MailText:
    catalogue = translations(language)
    values["channel"] = catalogue.gettext(_CHANNELS[str(values["channel"])])
    return MailText(
        subject=catalogue.gettext(_CONFIRM_SUBJECT) % values,
        body=catalogue.gettext(_CONFIRM_BODY) % values,
    )


def notice_mail(language: str, **values: object) -> MailText:
    catalogue = translations(language)
    values["event"] = catalogue.gettext(_EVENTS[str(values["event"])])
    return MailText(
        subject=catalogue.gettext(_NOTICE_SUBJECT) % values,
        body=catalogue.gettext(_NOTICE_BODY) % values,
    )
