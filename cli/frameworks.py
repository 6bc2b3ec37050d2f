"""`sdgcities frameworks ...`: list, read, adapt, publish and send a framework for endorsement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ._ops import OPERATOR_EXIT_CODES, NodeUrl, TokenFile, connect, emit, fields, say, table
from ._options import ConfigFile, JsonOutput
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


def _show(answer: dict[str, Any], *, json_output: bool, title: str) -> None:
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

    emit(answer, json_output=json_output, render=render)


@frameworks_app.command("list")
def list_frameworks(
    framework_id: Annotated[
        str | None, typer.Option("--framework-id", help="Only this framework.")
    ] = None,
    status: Annotated[str | None, typer.Option(help="draft or published.")] = None,
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Framework versions (drafts only for staff)."""
    from ._ops import every_page

    if status not in (None, "draft", "published"):
        raise CliError("--status must be draft or published", ExitCode.USAGE)
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = every_page(api, "/frameworks", framework_id=framework_id, status=status)
    emit(
        answer,
        json_output=json_output,
        render=lambda out: out.print(
            table(
                f"{answer['count']} framework version(s)",
                COLUMNS,
                [_row(v) for v in answer["data"]],
            )
        ),
    )


@frameworks_app.command("show")
def show_framework(
    version_id: VersionId,
    document: Annotated[
        bool,
        typer.Option("--document", help="Print the framework document itself (JSON)."),
    ] = False,
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """A version: its state, digest, endorsement and stages; `--document` for the document."""
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.get(f"/frameworks/{version_id}")
    if document:
        from ._ui import write_json

        write_json(answer["document"])
        return
    _show(answer, json_output=json_output, title=f"Framework version {version_id}")


@frameworks_app.command("derive")
def derive_framework(
    base_id: Annotated[int, typer.Argument(help="The published baseline version's id.")],
    framework_id: Annotated[
        str, typer.Option("--framework-id", help="The national framework's id (sdgcities-ke).")
    ],
    version: Annotated[str, typer.Option(help="Its version (1).")],
    title: Annotated[str, typer.Option(help="Its title.")],
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """A national draft for this node's country, copied from a published baseline."""
    body = {"framework_id": framework_id, "version": version, "title": title}
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.post(f"/frameworks/{base_id}/derive", body)
    _show(answer, json_output=json_output, title=f"Draft {answer['id']} derived from {base_id}")


@frameworks_app.command("revise")
def revise_framework(
    version_id: VersionId,
    version: Annotated[str, typer.Option(help="The new version (2).")],
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """A new draft copied from a published version of this node's framework, to change it."""
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.post(f"/frameworks/{version_id}/revise", {"version": version})
    _show(answer, json_output=json_output, title=f"Draft {answer['id']} revises {version_id}")


@frameworks_app.command("edit")
def edit_criterion(
    version_id: VersionId,
    code: Annotated[str, typer.Argument(help="The criterion's code (A.1).")],
    text: Annotated[str, typer.Option(help="The criterion's new wording.")],
    evidence: Annotated[
        list[str] | None,
        typer.Option(help="An item of evidence expected (repeatable; replaces the list)."),
    ] = None,
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Reword a criterion of a draft for the national context."""
    body: dict[str, Any] = {"text": text}
    if evidence:
        body["evidence_expected"] = evidence
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.patch(f"/frameworks/{version_id}/criteria/{code}", body)
    _show(answer, json_output=json_output, title=f"Draft {version_id}: {code} reworded")


@frameworks_app.command("add-criterion")
def add_criterion(
    version_id: VersionId,
    file: Annotated[
        Path,
        typer.Argument(
            help="JSON: {stage, code, text, evidence_expected, indicators?, source?}.",
            show_default=False,
        ),
    ],
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Add a national criterion at the end of a stage of a draft."""
    body = _json_object(file)
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.post(f"/frameworks/{version_id}/criteria", body)
    _show(answer, json_output=json_output, title=f"Draft {version_id}: criterion added")


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


@frameworks_app.command("publish")
def publish_framework(
    version_id: VersionId,
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Freeze a draft: its document never changes again, and its digest is computed."""
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.post(f"/frameworks/{version_id}/publish")
    _show(answer, json_output=json_output, title=f"Framework version {version_id} published")
    if not json_output:
        say(f"Ask for endorsement: sdgcities frameworks request-endorsement {version_id}")


@frameworks_app.command("request-endorsement")
def request_endorsement(
    version_id: VersionId,
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Send a published version to the global node for endorsement (a national node).

    The endorsement comes back on the trust list; `sdgcities federation sync` attaches it."""
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.post(f"/admin/frameworks/{version_id}/request-endorsement")
    emit(
        answer,
        json_output=json_output,
        render=lambda out: out.print(
            fields(
                f"Endorsement of version {version_id} requested",
                [
                    ("request id (global node)", answer.get("request_id")),
                    ("state", answer.get("answer", {}).get("state")),
                ],
            )
        ),
    )
