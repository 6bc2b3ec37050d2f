"""What the notices say (`node.notifications`), in the recipient's language.

Every notice greets the person, says what happened, says why they receive it and where they
choose which notices they get. Composed like the account mails (`mails.mail_text`).
"""

from __future__ import annotations

from sdgcities.node.mail import MailText

from ..i18n import N_, Language, translations
from .mails import mail_text

GREETING = N_("Hello %(name)s,")
PREFERENCES = N_("To choose which notices you receive, and in which language: %(preferences)s")

WHY_CITY = N_("You receive this notice because you hold an account of %(city)s on %(node)s.")
WHY_REVIEWER = N_(
    "You receive this notice because you review application %(application)s on %(node)s."
)
WHY_COMMITTEE = N_("You receive this notice because you sit on the committee of %(node)s.")
WHY_SECRETARIAT = N_(
    "You receive this notice because you are in the secretariat of %(node)s, the global node."
)

CLARIFICATION_ASKED_SUBJECT = N_("A reviewer asks %(city)s for a clarification")
CLARIFICATION_ASKED_BODY = N_(
    "A reviewer of application %(application)s asks about criteria %(criteria)s:\n\n"
    "%(question)s\n\n"
    "The review waits for the city's answer: %(link)s"
)
CLARIFICATION_ANSWERED_SUBJECT = N_(
    "%(city)s answered the clarification on application %(application)s"
)
CLARIFICATION_ANSWERED_BODY = N_(
    "The city answered every open question on application %(application)s, and the review "
    "resumes: %(link)s"
)
REVIEW_ASSIGNED_SUBJECT = N_("You are assigned to review application %(application)s")
REVIEW_ASSIGNED_BODY = N_(
    "The secretariat of %(node)s assigned you to review application %(application)s of "
    "%(city)s (stage %(stage)s). If you have a conflict of interest with the city, declare "
    "it before you assess anything.\n\n%(link)s"
)
MEETING_SCHEDULED_SUBJECT = N_("Committee meeting on %(date)s: %(title)s")
MEETING_SCHEDULED_BODY = N_(
    "The committee of %(node)s meets on %(date)s at %(time)s UTC: %(title)s.\n\n"
    "The invitation is attached for your calendar. The agenda and the dossiers: %(link)s"
)
DECISION_AWARD_APPROVED = N_(
    "The committee of %(node)s awarded the certificate to application %(application)s of "
    "%(city)s on %(date)s."
)
DECISION_AWARD_REJECTED = N_(
    "The committee of %(node)s declined application %(application)s of %(city)s on %(date)s."
)
DECISION_PROPOSAL_APPROVED = N_(
    "The committee of %(node)s approved the proposal (%(proposal)s) about certificate "
    "%(certificate)s of %(city)s on %(date)s."
)
DECISION_PROPOSAL_REJECTED = N_(
    "The committee of %(node)s rejected the proposal (%(proposal)s) about certificate "
    "%(certificate)s of %(city)s on %(date)s."
)
DECISION_SUBJECT = N_("Committee decision about %(city)s")
DECISION_VOTES = N_("Votes: %(yes)s yes, %(no)s no, %(abstain)s abstentions.")
PROPOSAL_NAMES = {
    "suspension": N_("suspension"),
    "reinstatement": N_("reinstatement"),
    "revocation": N_("revocation"),
}

CERTIFICATE_ISSUED_SUBJECT = N_("Certificate issued to %(city)s")
CERTIFICATE_ISSUED_BODY = N_(
    "%(node)s issued certificate %(certificate)s to %(city)s (stage %(stage)s, level "
    "%(level)s), valid until %(until)s.\n\n%(link)s"
)
CERTIFICATE_SUSPENDED_SUBJECT = N_("Certificate of %(city)s suspended")
CERTIFICATE_SUSPENDED_BODY = N_(
    "The committee of %(node)s suspended certificate %(certificate)s of %(city)s.\n\n"
    "Reason: %(reason)s\n\n%(link)s"
)
CERTIFICATE_REINSTATED_SUBJECT = N_("Certificate of %(city)s reinstated")
CERTIFICATE_REINSTATED_BODY = N_(
    "The committee of %(node)s reinstated certificate %(certificate)s of %(city)s.\n\n"
    "Reason: %(reason)s\n\n%(link)s"
)
CERTIFICATE_REVOKED_SUBJECT = N_("Certificate of %(city)s revoked")
CERTIFICATE_REVOKED_BODY = N_(
    "The committee of %(node)s revoked certificate %(certificate)s of %(city)s.\n\n"
    "Reason: %(reason)s\n\n%(link)s"
)
CERTIFICATE_EXPIRING_SUBJECT = N_("The certificate of %(city)s expires in %(days)s days")
CERTIFICATE_EXPIRING_BODY = N_(
    "Certificate %(certificate)s of %(city)s (stage %(stage)s, level %(level)s) expires on "
    "%(until)s. To hold a valid certificate after that date, apply again in time.\n\n%(link)s"
)
NODE_SILENT_SUBJECT = N_("Node %(member)s is silent")
NODE_SILENT_BODY = N_(
    "Member node %(member)s (%(node_id)s) has not reported since %(since)s, longer than the "
    "%(hours)s hours a node may stay silent.\n\n%(link)s"
)
NODE_ALARM_SUBJECT = N_("Alarm about node %(member)s: %(alarm)s")
NODE_ALARM_BODY = N_(
    "The global node raised an alarm (%(alarm)s) about node %(member)s (%(node_id)s) on "
    "%(date)s:\n\n%(detail)s\n\n%(link)s"
)
COMMUNITY_FORMED_SUBJECT = N_("A learning community formed around the gaps of %(city)s")
COMMUNITY_FORMED_BODY = N_(
    'The secretariat of %(node)s formed the learning community "%(title)s" of %(count)s '
    "cities that share gaps of their latest stage reports: %(gaps)s. Its members learn "
    "together, with the catalogue's tools and case studies, events and a discussion.\n\n"
    "The other cities see %(city)s, and so these gaps, only if it joins. To join or decline: "
    "%(link)s"
)
COMMUNITY_EVENT_SUBJECT = N_("%(title)s on %(date)s: %(community)s")
COMMUNITY_EVENT_BODY = N_(
    'The learning community "%(community)s" of %(node)s meets on %(date)s at %(time)s UTC '
    "(%(minutes)s minutes): %(title)s (%(kind)s).\n\n"
    "The invitation is attached for your calendar. The community: %(link)s"
)
COMMUNITY_EVENT_CANCELLED_SUBJECT = N_("Cancelled: %(title)s on %(date)s: %(community)s")
COMMUNITY_EVENT_CANCELLED_BODY = N_(
    'The meeting of the learning community "%(community)s" of %(node)s on %(date)s at %(time)s '
    "UTC (%(minutes)s minutes), %(title)s (%(kind)s), is cancelled.\n\n"
    "The cancellation is attached for your calendar. The community: %(link)s"
)
COMMUNITY_EVENT_KINDS = {"webinar": N_("webinar"), "peer_exchange": N_("peer exchange")}


def notice_mail(
    language: Language,
    *,
    subject: str,
    body: str,
    why: str,
    more: tuple[str, ...] = (),
    **values: object,
) -> MailText:
    """The notice in `language`: greeting, what happened (`body`, then the paragraphs `more`),
    why the person gets it, and the link to their preferences (`values` holds `name` and
    `preferences` besides what the texts name)."""
    catalogue = translations(language.code)
    text = mail_text(language, subject, body, **values)
    paragraphs = [catalogue.gettext(GREETING) % values, text.body]
    paragraphs += [catalogue.gettext(paragraph) % values for paragraph in more]
    signature = "\n".join(
        ("-- ", catalogue.gettext(why) % values, catalogue.gettext(PREFERENCES) % values)
    )
    return MailText(subject=text.subject, body="\n\n".join([*paragraphs, signature]))


def translated(language: Language, message: str) -> str:
    return translations(language.code).gettext(message)
