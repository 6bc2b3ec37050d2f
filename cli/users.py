"""`sdgcities users ...` and `sdgcities tokens ...`: accounts and bearer tokens (administrators)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from ._ops import OPERATOR_EXIT_CODES, Target, one_of, operator_command
from .errors import CliError, ExitCode

users_app = typer.Typer(
    help=f"Accounts on a node (administrators).\n\n{OPERATOR_EXIT_CODES}", no_args_is_help=True
)
tokens_app = typer.Typer(
    help=f"Bearer tokens of accounts (administrators).\n\n{OPERATOR_EXIT_CODES}",
    no_args_is_help=True,
)

UserId = Annotated[int, typer.Argument(help="The account's id.")]
ROLES = ("administrator", "secretariat", "reviewer", "committee_member", "city_applicant")
STAKEHOLDERS = (
    "government",
    "local_government",
    "civil_society",
    "academia",
    "private_sector",
    "united_nations",
)
USER_COLUMNS = ("id", "name", "email", "role", "city", "active")


def _user_row(user: dict[str, Any]) -> list[object]:
    return [
        user["id"],
        user["name"],
        user["email"],
        user["role"],
        user.get("city_locode"),
        user["active"],
    ]


def _show_user(target: Target, answer: dict[str, Any], title: str) -> None:
    term = f"{answer.get('term_start') or '…'} to {answer.get('term_end') or '…'}"
    target.record(
        answer,
        title,
        [
            ("id", answer["id"]),
            ("name", answer["name"]),
            ("email", answer["email"]),
            ("role", answer["role"]),
            ("city", answer.get("city_locode")),
            ("languages", answer.get("languages")),
            ("stakeholder", answer.get("stakeholder_category")),
            ("term", term),
            ("active", answer["active"]),
        ],
    )


def who_am_i(target: Target) -> None:
    """Who the token belongs to: the account on the node (GET /me), its role and state."""
    answer = target.call("GET", "/me")
    _show_user(target, answer, f"The token belongs to account {answer['id']}")


@operator_command(users_app, "list")
def list_users(
    target: Target,
    role: Annotated[str | None, typer.Option(help=f"Only this role: {', '.join(ROLES)}.")] = None,
) -> None:
    """Every account, with its role and whether it is active."""
    one_of(role, ROLES, "--role")
    target.listing(
        "/admin/users",
        noun="account(s)",
        columns=USER_COLUMNS,
        row=_user_row,
        paged=True,
        role=role,
    )


@operator_command(users_app, "add")
def add_user(
    target: Target,
    name: Annotated[str, typer.Option(help="The person's name.", show_default=False)],
    email: Annotated[str, typer.Option(help="Their email (unique).", show_default=False)],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}.", show_default=False)],
    city: Annotated[
        str | None, typer.Option(help="UN/LOCODE of the city (city_applicant only).")
    ] = None,
    language: Annotated[
        list[str] | None, typer.Option(help="A language they work in (repeatable): en, fr ...")
    ] = None,
    stakeholder: Annotated[
        str | None,
        typer.Option(help=f"Committee members: {', '.join(STAKEHOLDERS)}.", show_default=False),
    ] = None,
    term_start: Annotated[
        str | None, typer.Option(help="Committee term start (YYYY-MM-DD).", show_default=False)
    ] = None,
    term_end: Annotated[
        str | None, typer.Option(help="Committee term end (YYYY-MM-DD).", show_default=False)
    ] = None,
) -> None:
    """Create an account; give it a token with `sdgcities tokens create ID`."""
    body: dict[str, Any] = {
        "name": name,
        "email": email,
        "role": one_of(role, ROLES, "--role"),
        "languages": language or [],
    }
    optional = {
        "city_locode": city,
        "stakeholder_category": one_of(stakeholder, STAKEHOLDERS, "--stakeholder"),
        "term_start": _date(term_start, "--term-start"),
        "term_end": _date(term_end, "--term-end"),
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    answer = target.call("POST", "/admin/users", body)
    _show_user(target, answer, f"Account {answer['id']} created")
    target.hint(f"Give it a token with: sdgcities tokens create {answer['id']}")


def _date(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise CliError(f"{option} must be a date YYYY-MM-DD", ExitCode.USAGE) from exc


def _set_active(target: Target, user_id: int, active: bool) -> None:
    answer = target.call("PATCH", f"/admin/users/{user_id}", {"active": active})
    state = "active" if active else "deactivated: its tokens no longer work"
    _show_user(target, answer, f"Account {user_id} {state}")


@operator_command(users_app, "deactivate")
def deactivate_user(target: Target, user_id: UserId) -> None:
    """Deactivate an account: every token of it stops working at once (kept for the record)."""
    _set_active(target, user_id, False)


@operator_command(users_app, "activate")
def activate_user(target: Target, user_id: UserId) -> None:
    """Make a deactivated account active again."""
    _set_active(target, user_id, True)


TOKEN_COLUMNS = ("id", "prefix", "label", "created", "expires", "revoked")


def _token_row(token: dict[str, Any]) -> list[object]:
    return [
        token["id"],
        token["prefix"],
        token["label"],
        token["created_at"],
        token["expires_at"],
        token.get("revoked_at"),
    ]


@operator_command(tokens_app, "create")
def create_token(
    target: Target,
    user_id: UserId,
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
    days: Annotated[
        int | None,
        typer.Option(min=1, max=730, help="Lifetime in days. Default: the node's (90)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the token to this new file (mode 600) instead of showing it.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Issue a token for an account. The secret is shown (or written) once: only its hash is
    kept."""
    body: dict[str, Any] = {"label": label}
    if days is not None:
        body["lifetime_days"] = days
    if out is not None and out.exists():
        raise CliError(
            f"{out} already exists; the token is written only to a new file", ExitCode.USAGE
        )
    answer = target.call("POST", f"/admin/users/{user_id}/tokens", body)
    secret = answer["token"]
    if out is not None:
        _write_secret(out, secret)
        answer = {key: value for key, value in answer.items() if key != "token"}
        answer["token_file"] = str(out)
    target.record(
        answer,
        f"Token {answer['id']} for account {user_id}",
        [
            ("token", secret if out is None else f"written to {out}"),
            ("label", answer["label"]),
            ("expires", answer["expires_at"]),
        ],
    )
    if out is None:
        target.hint(
            "The token is shown once; keep it (e.g. in a file of mode 600 for --token-file)."
        )


def _write_secret(path: Path, secret: str) -> None:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise CliError(f"cannot write the token to {path}: {exc.strerror}") from exc
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(secret + "\n")


@operator_command(tokens_app, "list")
def list_tokens(target: Target, user_id: UserId) -> None:
    """An account's tokens (their prefixes; the secrets are not kept)."""
    target.listing(
        f"/admin/users/{user_id}/tokens",
        noun=f"token(s) of account {user_id}",
        columns=TOKEN_COLUMNS,
        row=_token_row,
        paged=False,
    )


@operator_command(tokens_app, "revoke")
def revoke_token(
    target: Target,
    token_id: Annotated[int, typer.Argument(help="The token's id (see `tokens list`).")],
) -> None:
    """Revoke a token: it stops working at once."""
    answer = target.call("DELETE", f"/admin/tokens/{token_id}")
    target.rows(answer, f"Token {token_id} revoked", TOKEN_COLUMNS, [_token_row(answer)])
