"""`sdgcities frameworks ...`: list, read, adapt, publish and send a framework for endorsement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ._ops import OPERATOR_EXIT_CODES, Target, fields, operator_command, table
from .errors import CliError, ExitCode

frameworks_app = typer.Typer(
    help=(
        "Framework versions: the baseline and national adaptations (changes: administrators).\n\n"
        f"{OPERATOR_EXIT_CODES}"
    ),
    no_args_is_help=True,
)

VersionId = Annotated[int, typer.Argument(help="The framework version's id (see `list`).")]
COLUMNS = ("id", "framework", "version", "title", "country", "status", "endorsed", "usable")


def _row(version: dict[str, Any]) -> list[object]:
    return [
        version["id"],
        version["framework_id"],
        version["version"],
        version["title"],
        version.get("country"),
        version["status"],
        version.get("endorsed_at"),
        version["usable_for_certification"],
    ]


def _show(target: Target, answer: dict[str, Any], title: str) -> None:
    def render(out: Any) -> None:
        out.print(
            fields(
                title,
                [
                    ("id", answer["id"]),
                    ("framework", f"{answer['framework_id']} version {answer['version']}"),
                    ("title", answer["title"]),
                    ("country", answer.get("country")),
                    ("status", answer["status"]),
                    ("based on", answer.get("based_on_id")),
                    ("digest", answer.get("digest")),
                    ("published", answer.get("published_at")),
                    ("endorsed", answer.get("endorsed_at")),
                    ("usable for certification", answer["usable_for_certification"]),
                ],
            )
        )
        stages = answer.get("document", {}).get("stages", [])
        if stages:
            out.print(
                table(
                    "Stages",
                    ("stage", "level", "name", "criteria", "validity (years)"),
                    [
                        [
                            s.get("key"),
                            s.get("level"),
                            s.get("name"),
                            len(s.get("criteria", [])),
                            s.get("validityYears"),
                        ]
                        for s in stages
                    ],
                )
            )

    target.answer(answer, render)


@operator_command(frameworks_app, "list")
def list_frameworks(
    target: Target,
    framework_id: Annotated[
        str | None, typer.Option("--framework-id", help="Only this framework.")
    ] = None,
    status: Annotated[str | None, typer.Option(help="draft or published.")] = None,
) -> None:
    """Framework versions (drafts only for staff)."""
    if status not in (None, "draft", "published"):
        raise CliError("--status must be draft or published", ExitCode.USAGE)
    target.listing(
        "/frameworks",
        noun="framework version(s)",
        columns=COLUMNS,
        row=_row,
        paged=True,
        framework_id=framework_id,
        status=status,
    )


@operator_command(frameworks_app, "show")
def show_framework(
    target: Target,
    version_id: VersionId,
    document: Annotated[
        bool,
        typer.Option("--document", help="Print the framework document itself (JSON)."),
    ] = False,
) -> None:
    """A version: its state, digest, endorsement and stages; `--document` for the document."""
    answer = target.call("GET", f"/frameworks/{version_id}")
    if document:
        from ._ui import write_json

        write_json(answer["document"])
        return
    _show(target, answer, f"Framework version {version_id}")


@operator_command(frameworks_app, "derive")
def derive_framework(
    target: Target,
    base_id: Annotated[int, typer.Argument(help="The published baseline version's id.")],
    framework_id: Annotated[
        str, typer.Option("--framework-id", help="The national framework's id (sdgcities-ke).")
    ],
    version: Annotated[str, typer.Option(help="Its version (1).")],
    title: Annotated[str, typer.Option(help="Its title.")],
) -> None:
    """A national draft for this node's country, copied from a published baseline."""
    body = {"framework_id": framework_id, "version": version, "title": title}
    answer = target.call("POST", f"/frameworks/{base_id}/derive", body)
    _show(target, answer, f"Draft {answer['id']} derived from {base_id}")


@operator_command(frameworks_app, "revise")
def revise_framework(
    target: Target,
    version_id: VersionId,
    version: Annotated[str, typer.Option(help="The new version (2).")],
) -> None:
    """A new draft copied from a published version of this node's framework, to change it."""
    answer = target.call("POST", f"/frameworks/{version_id}/revise", {"version": version})
    _show(target, answer, f"Draft {answer['id']} revises {version_id}")


@operator_command(frameworks_app, "edit")
def edit_criterion(
    target: Target,
    version_id: VersionId,
    code: Annotated[str, typer.Argument(help="The criterion's code (A.1).")],
    text: Annotated[str, typer.Option(help="The criterion's new wording.")],
    evidence: Annotated[
        list[str] | None,
        typer.Option(help="An item of evidence expected (repeatable; replaces the list)."),
    ] = None,
) -> None:
    """Reword a criterion of a draft for the national context."""
    body: dict[str, Any] = {"text": text}
    if evidence:
        body["evidence_expected"] = evidence
    answer = target.call("PATCH", f"/frameworks/{version_id}/criteria/{code}", body)
    _show(target, answer, f"Draft {version_id}: {code} reworded")


@operator_command(frameworks_app, "add-criterion")
def add_criterion(
    target: Target,
    version_id: VersionId,
    file: Annotated[
        Path,
        typer.Argument(
            help="JSON: {stage, code, text, evidence_expected, indicators?, source?}.",
            show_default=False,
        ),
    ],
) -> None:
    """Add a national criterion at the end of a stage of a draft."""
    answer = target.call("POST", f"/frameworks/{version_id}/criteria", _json_object(file))
    _show(target, answer, f"Draft {version_id}: criterion added")


def _json_object(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"{path} cannot be read: {exc.strerror}", ExitCode.USAGE) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise CliError(f"{path} is not JSON: {exc}", ExitCode.USAGE) from exc
    if not isinstance(value, dict):
        raise CliError(f"{path} must hold a JSON object", ExitCode.USAGE)
    return value


@operator_command(frameworks_app, "publish")
def publish_framework(target: Target, version_id: VersionId) -> None:
    """Freeze a draft: its document never changes again, and its digest is computed."""
    answer = target.call("POST", f"/frameworks/{version_id}/publish")
    _show(target, answer, f"Framework version {version_id} published")
    target.hint(f"Ask for endorsement: sdgcities frameworks request-endorsement {version_id}")


@operator_command(frameworks_app, "request-endorsement")
def request_endorsement(target: Target, version_id: VersionId) -> None:
    """Send a published version to the global node for endorsement (a national node).

    The endorsement comes back on the trust list; `sdgcities federation sync` attaches it."""
    answer = target.call("POST", f"/admin/frameworks/{version_id}/request-endorsement")
    target.record(
        answer,
        f"Endorsement of version {version_id} requested",
        [
            ("request id (global node)", answer.get("request_id")),
            ("state", answer.get("answer", {}).get("state")),
        ],
    )
