"""`sdgcities meetings ...`: the certification committee's meetings, agendas and decisions.

The secretariat (or an administrator) schedules, records attendance, generates the agenda,
opens, decides and closes; committee members vote as themselves (`meetings vote`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ._ops import (
    OPERATOR_EXIT_CODES,
    Reason,
    Target,
    fields,
    moment,
    operator_command,
    say,
    table,
)
from .errors import CliError, ExitCode

meetings_app = typer.Typer(
    help=f"Committee meetings, agendas, votes and decisions.\n\n{OPERATOR_EXIT_CODES}",
    no_args_is_help=True,
)

MeetingId = Annotated[int, typer.Argument(help="The meeting's id (see `meetings list`).")]
ItemId = Annotated[int, typer.Argument(help="The agenda item's id (see `meetings show`).")]
MEETING_COLUMNS = ("id", "title", "scheduled for", "status", "opened", "closed")
ITEM_COLUMNS = ("item", "kind", "application", "certificate", "outcome", "votes", "decided")
MEMBER_COLUMNS = ("id", "name", "stakeholder", "term start", "term end", "standing")


def _meeting_row(meeting: dict[str, Any]) -> list[object]:
    return [
        meeting["id"],
        meeting["title"],
        meeting["scheduled_for"],
        meeting["status"],
        meeting.get("opened_at"),
        meeting.get("closed_at"),
    ]


def _item_row(item: dict[str, Any]) -> list[object]:
    tally = item.get("tally")
    votes = " ".join(f"{k} {v}" for k, v in tally.items()) if tally else None
    return [
        item["id"],
        item["kind"],
        item.get("application_id"),
        item.get("certificate_id"),
        item["outcome"],
        votes,
        item.get("decided_at"),
    ]


def _member_row(member: dict[str, Any]) -> list[object]:
    return [
        member["id"],
        member["name"],
        member.get("stakeholder_category"),
        member.get("term_start"),
        member.get("term_end"),
        member["standing"],
    ]


def _quorum_text(quorum: dict[str, Any] | None) -> str:
    if not quorum:
        return "—"
    verdict = "met" if quorum["met"] else "NOT met"
    return (
        f"{verdict}: {quorum['attending']} of {quorum['sitting']} sitting members attend "
        f"(needs {quorum['required']}), {quorum['non_government_attending']} not from a "
        f"government (needs {quorum['required_non_government']})"
    )


def _show_meeting(target: Target, answer: dict[str, Any], title: str) -> None:
    def render(out: Any) -> None:
        out.print(
            fields(
                title,
                [
                    ("id", answer["id"]),
                    ("title", answer["title"]),
                    ("scheduled for", answer["scheduled_for"]),
                    ("status", answer["status"]),
                    ("quorum now", _quorum_text(answer.get("quorum_now"))),
                ],
            )
        )
        attendance = answer.get("attendance", [])
        out.print(table("Attendance", MEMBER_COLUMNS, [_member_row(m) for m in attendance]))
        agenda = answer.get("agenda", [])
        out.print(table("Agenda", ITEM_COLUMNS, [_item_row(i) for i in agenda]))

    target.answer(answer, render)


def _show_item(target: Target, answer: dict[str, Any], title: str) -> None:
    def render(out: Any) -> None:
        out.print(
            fields(
                title,
                [
                    ("kind", answer["kind"]),
                    ("application", answer.get("application_id")),
                    ("certificate", answer.get("certificate_id")),
                    ("outcome", answer["outcome"]),
                    ("quorum", _quorum_text(answer.get("quorum"))),
                    ("tally", _item_row(answer)[5]),
                    ("deferred because", answer.get("deferral_reason")),
                ],
            )
        )
        votes = answer.get("votes", [])
        if votes:
            out.print(
                table(
                    "Votes",
                    ("member", "choice", "cast"),
                    [[v["member_name"], v["choice"], v["cast_at"]] for v in votes],
                )
            )

    target.answer(answer, render)


@operator_command(meetings_app, "list")
def list_meetings(
    target: Target,
    status: Annotated[str | None, typer.Option(help="scheduled, open or closed.")] = None,
) -> None:
    """Meetings, latest first."""
    if status not in (None, "scheduled", "open", "closed"):
        raise CliError("--status must be scheduled, open or closed", ExitCode.USAGE)
    target.listing(
        "/committee/meetings",
        noun="meeting(s)",
        columns=MEETING_COLUMNS,
        row=_meeting_row,
        paged=True,
        status=status,
    )


@operator_command(meetings_app, "show")
def show_meeting(target: Target, meeting_id: MeetingId) -> None:
    """A meeting with its attendance, agenda and the quorum as it stands today."""
    answer = target.call("GET", f"/committee/meetings/{meeting_id}")
    _show_meeting(target, answer, f"Meeting {meeting_id}")


@operator_command(meetings_app, "members")
def list_members(target: Target) -> None:
    """The committee's members, sitting, past and future, with their terms."""
    answer = target.call("GET", "/committee/members")
    target.rows(
        answer,
        f"{answer['count']} member(s), {answer['sitting']} sitting",
        MEMBER_COLUMNS,
        [_member_row(m) for m in answer["data"]],
    )


@operator_command(meetings_app, "schedule")
def schedule_meeting(
    target: Target,
    title: Annotated[str, typer.Option(help="The meeting's title.")],
    at: Annotated[
        str,
        typer.Option(
            "--at", help="When it sits: ISO 8601 with a time zone (2026-03-01T10:00+03:00)."
        ),
    ],
) -> None:
    """Schedule a meeting; it keeps the node's quorum rule as it stands now."""
    body = {"title": title, "scheduled_for": moment(at, "--at")}
    answer = target.call("POST", "/committee/meetings", body)
    _show_meeting(target, answer, f"Meeting {answer['id']} scheduled")


@operator_command(meetings_app, "attend")
def record_attendance(
    target: Target,
    meeting_id: MeetingId,
    member_ids: Annotated[
        list[int], typer.Argument(help="The members present (ids, see `meetings members`).")
    ],
) -> None:
    """Record sitting members as present; stops at the first one the node refuses."""
    recorded: list[dict[str, Any]] = []
    with target.connect() as api:
        for member_id in member_ids:
            try:
                recorded.append(
                    api.post(
                        f"/committee/meetings/{meeting_id}/attendance", {"member_id": member_id}
                    )
                )
            except CliError as exc:
                done = ", ".join(str(m["id"]) for m in recorded) or "none"
                raise CliError(
                    f"member {member_id}: {exc} (recorded before: {done})", exc.exit_code
                ) from exc
    target.rows(
        {"meeting_id": meeting_id, "recorded": recorded},
        f"Attendance recorded at meeting {meeting_id}",
        MEMBER_COLUMNS,
        [_member_row(m) for m in recorded],
    )


@operator_command(meetings_app, "agenda")
def generate_agenda(target: Target, meeting_id: MeetingId) -> None:
    """Generate the agenda: every recommended application and open proposal not yet on one."""
    answer = target.call("POST", f"/committee/meetings/{meeting_id}/agenda/generate")
    target.rows(
        answer,
        f"Agenda of meeting {meeting_id} ({len(answer['added'])} item(s) added)",
        ITEM_COLUMNS,
        [_item_row(i) for i in answer["agenda"]],
    )


def _transition(target: Target, meeting_id: int, verb: str) -> None:
    answer = target.call("POST", f"/committee/meetings/{meeting_id}/{verb}")
    _show_meeting(target, answer, f"Meeting {meeting_id} {answer['status']}")


@operator_command(meetings_app, "open")
def open_meeting(target: Target, meeting_id: MeetingId) -> None:
    """Open a scheduled meeting: members may vote and decisions may be recorded."""
    _transition(target, meeting_id, "open")


@operator_command(meetings_app, "close")
def close_meeting(target: Target, meeting_id: MeetingId) -> None:
    """Close an open meeting; undecided items are deferred to a later agenda."""
    _transition(target, meeting_id, "close")


@operator_command(meetings_app, "report")
def meeting_report(
    target: Target,
    meeting_id: MeetingId,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html", help="Write the report page (HTML) to this file.", show_default=False
        ),
    ] = None,
) -> None:
    """The meeting report: attendance, each item with its votes, the outcomes."""
    with target.connect() as api:
        answer = api.get(f"/committee/meetings/{meeting_id}/report")
        page = (
            api.text(f"/committee/meetings/{meeting_id}/report.html", accept="text/html")
            if html
            else None
        )
    if html is not None and page is not None:
        try:
            html.write_text(page, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write {html}: {exc.strerror}") from exc
        say(f"Report page written to {html}")

    def render(out: Any) -> None:
        out.print(
            fields(
                f"{answer['committee']}: {answer['meeting']['title']}",
                [
                    ("meeting", answer["meeting"]["id"]),
                    ("status", answer["meeting"]["status"]),
                    ("scheduled for", answer["meeting"]["scheduled_for"]),
                    ("attending", len(answer["attendance"])),
                    ("outcomes", " ".join(f"{k} {v}" for k, v in answer["outcomes"].items())),
                ],
            )
        )
        out.print(
            table(
                "Items",
                ("item", "kind", "city", "stage", "outcome", "votes", "decided"),
                [
                    [i["id"], i["kind"], i.get("city_locode"), i.get("stage"), *_item_row(i)[4:]]
                    for i in answer["items"]
                ],
            )
        )

    target.answer(answer, render)


@operator_command(meetings_app, "decide")
def decide_item(target: Target, item_id: ItemId) -> None:
    """Record the decision on an item (quorum, then the tally) and carry it out: issue the
    certificate, or suspend, reinstate or revoke it."""
    answer = target.call("POST", f"/committee/items/{item_id}/decide")
    _show_item(target, answer, f"Item {item_id}: {answer['outcome']}")


@operator_command(meetings_app, "defer")
def defer_item(target: Target, item_id: ItemId, reason: Reason) -> None:
    """Leave an item undecided; the next generated agenda takes it up again."""
    answer = target.call("POST", f"/committee/items/{item_id}/defer", {"reason": reason})
    _show_item(target, answer, f"Item {item_id} deferred")


@operator_command(meetings_app, "vote")
def cast_vote(
    target: Target,
    item_id: ItemId,
    choice: Annotated[str, typer.Argument(help="yes, no or abstain.")],
) -> None:
    """Vote on an item, once, as the committee member whose token this is."""
    if choice not in ("yes", "no", "abstain"):
        raise CliError("the vote is yes, no or abstain", ExitCode.USAGE)
    answer = target.call("POST", f"/committee/items/{item_id}/votes", {"choice": choice})
    target.answer(
        answer,
        lambda out: out.print(
            f"{answer['member_name']} voted {answer['choice']} on item {item_id}"
        ),
    )
