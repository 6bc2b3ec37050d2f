"""`sdgcities federation ...`: membership of the federation, from either side.

On the global node (the secretariat): join requests, members and their keys, the trust list,
framework endorsements. On a national node (its administrator): join, sync the trust list now,
rotate the signing key.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ._ops import (
    OPERATOR_EXIT_CODES,
    Reason,
    Target,
    Yes,
    confirm,
    one_of,
    operator_command,
    table,
)

federation_app = typer.Typer(
    help=(
        "Federation membership: on the global node (the secretariat) and on a national node "
        "(join, sync, rotate-key).\n\n"
        f"{OPERATOR_EXIT_CODES}"
    ),
    no_args_is_help=True,
)

NodeId = Annotated[str, typer.Argument(help="The member's node id (KE).")]
RequestId = Annotated[int, typer.Argument(help="The request's id (see `requests`).")]
Kid = Annotated[str, typer.Argument(help="The key's id (its RFC 7638 thumbprint).")]
MEMBER_COLUMNS = ("node", "name", "status", "since", "base URL", "active keys")
REQUEST_COLUMNS = ("id", "node", "state", "received", "decided by", "reason")
ENDORSEMENT_COLUMNS = ("id", "node", "framework", "version", "state", "received", "decided")


def _member_row(member: dict[str, Any]) -> list[object]:
    active = [k["kid"] for k in member.get("keys", []) if k["status"] == "active"]
    return [
        member["node_id"],
        member["name"],
        member["status"],
        member["status_since"],
        member["base_url"],
        active,
    ]


def _show_member(target: Target, answer: dict[str, Any], title: str) -> None:
    def render(out: Any) -> None:
        out.print(table(title, MEMBER_COLUMNS, [_member_row(answer)]))
        out.print(
            table(
                "Keys",
                ("kid", "status", "valid from", "valid until"),
                [
                    [k["kid"], k["status"], k["valid_from"], k.get("valid_until")]
                    for k in answer.get("keys", [])
                ],
            )
        )
        out.print(
            table(
                "History",
                ("status", "at", "by", "reason"),
                [
                    [h["status"], h["at"], h["actor"], h["reason"]]
                    for h in answer.get("history", [])
                ],
            )
        )

    target.answer(answer, render)


def _request_row(request: dict[str, Any]) -> list[object]:
    return [
        request["id"],
        request["node_id"],
        request["state"],
        request["received_at"],
        request.get("decided_by"),
        request.get("reason"),
    ]


def _endorsement_row(request: dict[str, Any]) -> list[object]:
    return [
        request["id"],
        request["node_id"],
        request["framework_id"],
        request["version"],
        request["state"],
        request["received_at"],
        request.get("decided_at"),
    ]


# The global node ------------------------------------------------------------------------------


@operator_command(federation_app, "requests")
def list_join_requests(
    target: Target,
    state: Annotated[str | None, typer.Option(help="pending, approved or refused.")] = None,
) -> None:
    """Join requests received by the global node."""
    one_of(state, ("pending", "approved", "refused"), "--state")
    target.listing(
        "/federation/join-requests",
        noun="join request(s)",
        columns=REQUEST_COLUMNS,
        row=_request_row,
        paged=False,
        state=state,
    )


@operator_command(federation_app, "approve")
def approve_join_request(target: Target, request_id: RequestId) -> None:
    """Approve a join request: the node and its keys go on the next trust list (published now)."""
    answer = target.call("POST", f"/federation/join-requests/{request_id}/approve")
    _show_member(target, answer, f"Node {answer['node_id']} approved")


@operator_command(federation_app, "refuse")
def refuse_join_request(target: Target, request_id: RequestId, reason: Reason) -> None:
    """Refuse a join request, with the reason."""
    path = f"/federation/join-requests/{request_id}/refuse"
    answer = target.call("POST", path, {"reason": reason})
    target.rows(
        answer, f"Join request {request_id} refused", REQUEST_COLUMNS, [_request_row(answer)]
    )


@operator_command(federation_app, "members")
def list_members(
    target: Target,
    node_id: Annotated[
        str | None, typer.Argument(help="One member, with its keys and history.")
    ] = None,
) -> None:
    """The federation's member nodes; with a node id, its keys and status history."""
    if node_id is not None:
        member = target.call("GET", f"/federation/members/{node_id}")
        _show_member(target, member, f"Member {node_id}")
        return
    target.listing(
        "/federation/members",
        noun="member(s)",
        columns=MEMBER_COLUMNS,
        row=_member_row,
        paged=False,
    )


def _change_member(target: Target, node_id: str, verb: str, reason: str) -> None:
    answer = target.call("POST", f"/federation/members/{node_id}/{verb}", {"reason": reason})
    _show_member(target, answer, f"Node {node_id} is {answer['status']} now")


@operator_command(federation_app, "suspend")
def suspend_member(target: Target, node_id: NodeId, reason: Reason) -> None:
    """Suspend a member: what it signs from now on does not verify, until reinstated."""
    _change_member(target, node_id, "suspend", reason)


@operator_command(federation_app, "reinstate")
def reinstate_member(target: Target, node_id: NodeId, reason: Reason) -> None:
    """Reinstate a suspended member."""
    _change_member(target, node_id, "reinstate", reason)


@operator_command(federation_app, "withdraw")
def withdraw_member(target: Target, node_id: NodeId, reason: Reason, yes: Yes = False) -> None:
    """Withdraw a member, for good: what it signs from now on never verifies again."""
    confirm(f"Withdraw node {node_id}? This cannot be undone.", yes=yes)
    _change_member(target, node_id, "withdraw", reason)


def _change_key(target: Target, node_id: str, kid: str, verb: str, reason: str) -> None:
    path = f"/federation/members/{node_id}/keys/{kid}/{verb}"
    answer = target.call("POST", path, {"reason": reason})
    target.record(
        answer,
        f"Key {kid} of node {node_id} is {answer['status']} now",
        [("valid from", answer["valid_from"]), ("valid until", answer.get("valid_until"))],
    )


@operator_command(federation_app, "retire-key")
def retire_key(target: Target, node_id: NodeId, kid: Kid, reason: Reason) -> None:
    """Retire a member's key (after a rotation): it verifies only what it signed before now."""
    _change_key(target, node_id, kid, "retire", reason)


@operator_command(federation_app, "compromise-key")
def compromise_key(
    target: Target, node_id: NodeId, kid: Kid, reason: Reason, yes: Yes = False
) -> None:
    """Mark a member's key compromised, for good: nothing it signed verifies any more."""
    confirm(
        f"Mark key {kid} of node {node_id} compromised? Every certificate it signed stops "
        "verifying; this cannot be undone.",
        yes=yes,
    )
    _change_key(target, node_id, kid, "compromise", reason)


@operator_command(federation_app, "publish")
def publish_trust_list(target: Target) -> None:
    """Sign and publish the trust list now (sequence + 1), e.g. after restoring a backup."""
    answer = target.call("POST", "/federation/trust-list/publish")
    target.record(
        answer,
        f"Trust list #{answer['sequence']} published",
        [("issued", answer["issued_at"]), ("next update", answer["next_update"])],
    )


@operator_command(federation_app, "endorsements")
def list_endorsements(
    target: Target,
    state: Annotated[str | None, typer.Option(help="pending, endorsed or refused.")] = None,
) -> None:
    """Requests from members to endorse their adapted framework versions (the global committee
    decides each as an agenda item: `sdgcities meetings agenda`, `vote`, `decide`)."""
    one_of(state, ("pending", "endorsed", "refused"), "--state")
    target.listing(
        "/federation/endorsements",
        noun="endorsement request(s)",
        columns=ENDORSEMENT_COLUMNS,
        row=_endorsement_row,
        paged=False,
        state=state,
    )


# A national node ------------------------------------------------------------------------------


@operator_command(federation_app, "join")
def join(
    target: Target,
    global_url: Annotated[
        str | None,
        typer.Option(
            "--global-url",
            help="The global node (must be the one the node is configured with, if any).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Send a join request, signed with the national node's key, to the global node."""
    body = {"global_url": global_url} if global_url else {}
    answer = target.call("POST", "/admin/federation/join", body)
    target.record(
        answer,
        "Join request sent",
        [("request id", answer.get("request_id")), ("state", answer.get("state"))],
    )
    target.hint("The global secretariat approves it (sdgcities federation approve ID); then sync.")


@operator_command(federation_app, "sync")
def sync(target: Target) -> None:
    """Have the national node fetch the trust list now (and attach its endorsements)."""
    answer = target.call("POST", "/admin/federation/sync")
    changed = "stored" if answer["stored"] else "already held"
    target.answer(answer, lambda out: out.print(f"Trust list #{answer['sequence']}: {changed}"))


@operator_command(federation_app, "rotate-key")
def rotate_key(target: Target) -> None:
    """Give the national node a new signing key, announced to the global node; the old key stays
    valid until the secretariat retires it (`federation retire-key` on the global node)."""
    answer = target.call("POST", "/admin/federation/keys/rotate")
    target.record(
        answer,
        "Signing key rotated",
        [("new key", answer["kid"]), ("previous key", answer["previous_kid"])],
    )
    target.hint(
        "Once national nodes and verifiers have synced, ask the global secretariat to retire "
        f"the previous key: sdgcities federation retire-key NODE {answer['previous_kid']}"
    )
