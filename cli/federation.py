"""`sdgcities federation ...`: membership of the federation, from either side.

On the global node (the secretariat): join requests, members and their keys, the trust list,
framework endorsements. On a national node (its administrator): join, sync the trust list now,
rotate the signing key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ._ops import (
    OPERATOR_EXIT_CODES,
    NodeUrl,
    Reason,
    TokenFile,
    Yes,
    confirm,
    connect,
    emit,
    fields,
    say,
    table,
)
from ._options import ConfigFile, JsonOutput
from .errors import CliError, ExitCode

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


def _show_member(answer: dict[str, Any], *, json_output: bool, title: str) -> None:
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

    emit(answer, json_output=json_output, render=render)


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


def _state(value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is not None and value not in allowed:
        raise CliError(f"--state must be one of {', '.join(allowed)}", ExitCode.USAGE)
    return value


# The global node ------------------------------------------------------------------------------


@federation_app.command("requests")
def list_join_requests(
    state: Annotated[str | None, typer.Option(help="pending, approved or refused.")] = None,
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Join requests received by the global node."""
    _state(state, ("pending", "approved", "refused"))
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.get("/federation/join-requests", state=state)
    emit(
        answer,
        json_output=json_output,
        render=lambda out: out.print(
            table(
                f"{answer['count']} join request(s)",
                REQUEST_COLUMNS,
                [_request_row(r) for r in answer["data"]],
            )
        ),
    )


@federation_app.command("approve")
def approve_join_request(
    request_id: RequestId,
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Approve a join request: the node and its keys go on the next trust list (published now)."""
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.post(f"/federation/join-requests/{request_id}/approve")
    _show_member(answer, json_output=json_output, title=f"Node {answer['node_id']} approved")


@federation_app.command("refuse")
def refuse_join_request(
    request_id: RequestId,
    reason: Reason,
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Refuse a join request, with the reason."""
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.post(f"/federation/join-requests/{request_id}/refuse", {"reason": reason})
    emit(
        answer,
        json_output=json_output,
        render=lambda out: out.print(
            table(f"Join request {request_id} refused", REQUEST_COLUMNS, [_request_row(answer)])
        ),
    )


@federation_app.command("members")
def list_members(
    node_id: Annotated[
        str | None, typer.Argument(help="One member, with its keys and history.")
    ] = None,
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """The federation's member nodes; with a node id, its keys and status history."""
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        if node_id is not None:
            member = api.get(f"/federation/members/{node_id}")
            _show_member(member, json_output=json_output, title=f"Member {node_id}")
            return
        answer = api.get("/federation/members")
    emit(
        answer,
        json_output=json_output,
        render=lambda out: out.print(
            table(
                f"{answer['count']} member(s)",
                MEMBER_COLUMNS,
                [_member_row(m) for m in answer["data"]],
            )
        ),
    )


def _change_member(
    node_id: str,
    verb: str,
    reason: str,
    *,
    node_url: str | None,
    token_file: Path | None,
    config: Path | None,
    json_output: bool,
) -> None:
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.post(f"/federation/members/{node_id}/{verb}", {"reason": reason})
    _show_member(answer, json_output=json_output, title=f"Node {node_id} is {answer['status']} now")


@federation_app.command("suspend")
def suspend_member(
    node_id: NodeId,
    reason: Reason,
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Suspend a member: what it signs from now on does not verify, until reinstated."""
    _change_member(
        node_id,
        "suspend",
        reason,
        node_url=node_url,
        token_file=token_file,
        config=config,
        json_output=json_output,
    )


@federation_app.command("reinstate")
def reinstate_member(
    node_id: NodeId,
    reason: Reason,
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Reinstate a suspended member."""
    _change_member(
        node_id,
        "reinstate",
        reason,
        node_url=node_url,
        token_file=token_file,
        config=config,
        json_output=json_output,
    )


@federation_app.command("withdraw")
def withdraw_member(
    node_id: NodeId,
    reason: Reason,
    yes: Yes = False,
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Withdraw a member, for good: what it signs from now on never verifies again."""
    confirm(f"Withdraw node {node_id}? This cannot be undone.", yes=yes)
    _change_member(
        node_id,
        "withdraw",
        reason,
        node_url=node_url,
        token_file=token_file,
        config=config,
        json_output=json_output,
    )


def _change_key(
    node_id: str,
    kid: str,
    verb: str,
    reason: str,
    *,
    node_url: str | None,
    token_file: Path | None,
    config: Path | None,
    json_output: bool,
) -> None:
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.post(f"/federation/members/{node_id}/keys/{kid}/{verb}", {"reason": reason})
    emit(
        answer,
        json_output=json_output,
        render=lambda out: out.print(
            fields(
                f"Key {kid} of node {node_id} is {answer['status']} now",
                [
                    ("valid from", answer["valid_from"]),
                    ("valid until", answer.get("valid_until")),
                ],
            )
        ),
    )


@federation_app.command("retire-key")
def retire_key(
    node_id: NodeId,
    kid: Kid,
    reason: Reason,
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Retire a member's key (after a rotation): it verifies only what it signed before now."""
    _change_key(
        node_id,
        kid,
        "retire",
        reason,
        node_url=node_url,
        token_file=token_file,
        config=config,
        json_output=json_output,
    )


@federation_app.command("compromise-key")
def compromise_key(
    node_id: NodeId,
    kid: Kid,
    reason: Reason,
    yes: Yes = False,
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Mark a member's key compromised, for good: nothing it signed verifies any more."""
    confirm(
        f"Mark key {kid} of node {node_id} compromised? Every certificate it signed stops "
        "verifying; this cannot be undone.",
        yes=yes,
    )
    _change_key(
        node_id,
        kid,
        "compromise",
        reason,
        node_url=node_url,
        token_file=token_file,
        config=config,
        json_output=json_output,
    )


@federation_app.command("publish")
def publish_trust_list(
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Sign and publish the trust list now (sequence + 1), e.g. after restoring a backup."""
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.post("/federation/trust-list/publish")
    emit(
        answer,
        json_output=json_output,
        render=lambda out: out.print(
            fields(
                f"Trust list #{answer['sequence']} published",
                [("issued", answer["issued_at"]), ("next update", answer["next_update"])],
            )
        ),
    )


@federation_app.command("endorsements")
def list_endorsements(
    state: Annotated[str | None, typer.Option(help="pending, endorsed or refused.")] = None,
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Requests from members to endorse their adapted framework versions."""
    _state(state, ("pending", "endorsed", "refused"))
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.get("/federation/endorsements", state=state)
    emit(
        answer,
        json_output=json_output,
        render=lambda out: out.print(
            table(
                f"{answer['count']} endorsement request(s)",
                ENDORSEMENT_COLUMNS,
                [_endorsement_row(r) for r in answer["data"]],
            )
        ),
    )


@federation_app.command("endorse")
def endorse(
    request_id: RequestId,
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Endorse a member's framework version with the root key (it goes on the trust list)."""
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.post(f"/federation/endorsements/{request_id}/endorse")
    emit(
        answer,
        json_output=json_output,
        render=lambda out: out.print(
            table(
                f"Endorsement request {request_id} {answer['state']}",
                ENDORSEMENT_COLUMNS,
                [_endorsement_row(answer)],
            )
        ),
    )


@federation_app.command("refuse-endorsement")
def refuse_endorsement(
    request_id: RequestId,
    reason: Reason,
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Refuse to endorse a member's framework version, with the reason."""
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.post(f"/federation/endorsements/{request_id}/refuse", {"reason": reason})
    emit(
        answer,
        json_output=json_output,
        render=lambda out: out.print(
            table(
                f"Endorsement request {request_id} refused",
                ENDORSEMENT_COLUMNS,
                [_endorsement_row(answer)],
            )
        ),
    )


# A national node ------------------------------------------------------------------------------


@federation_app.command("join")
def join(
    global_url: Annotated[
        str | None,
        typer.Option(
            "--global-url",
            help="The global node (must be the one the node is configured with, if any).",
            show_default=False,
        ),
    ] = None,
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Send a join request, signed with the national node's key, to the global node."""
    body = {"global_url": global_url} if global_url else {}
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.post("/admin/federation/join", body)
    emit(
        answer,
        json_output=json_output,
        render=lambda out: out.print(
            fields(
                "Join request sent",
                [("request id", answer.get("request_id")), ("state", answer.get("state"))],
            )
        ),
    )
    if not json_output:
        say("The global secretariat approves it (sdgcities federation approve ID); then sync.")


@federation_app.command("sync")
def sync(
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Have the national node fetch the trust list now (and attach its endorsements)."""
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.post("/admin/federation/sync")
    changed = "stored" if answer["stored"] else "already held"
    emit(
        answer,
        json_output=json_output,
        render=lambda out: out.print(f"Trust list #{answer['sequence']}: {changed}"),
    )


@federation_app.command("rotate-key")
def rotate_key(
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Give the national node a new signing key, announced to the global node; the old key stays
    valid until the secretariat retires it (`federation retire-key` on the global node)."""
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.post("/admin/federation/keys/rotate")
    emit(
        answer,
        json_output=json_output,
        render=lambda out: out.print(
            fields(
                "Signing key rotated",
                [("new key", answer["kid"]), ("previous key", answer["previous_kid"])],
            )
        ),
    )
    if not json_output:
        say(
            "Once national nodes and verifiers have synced, ask the global secretariat to retire "
            f"the previous key: sdgcities federation retire-key NODE {answer['previous_kid']}"
        )
