"""In-process tests of the CLI's parts: exit-code rule, inputs, settings, HTTP caps, bundle."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import typer
import typer.main
from typer.testing import CliRunner

from sdgcities.cli import _http, _inputs, _parallel
from sdgcities.cli._bundle import Anchor, Bundle, write_bundle
from sdgcities.cli._config import resolve_settings
from sdgcities.cli._inputs import Batch, Kind, classify, unwrap
from sdgcities.cli._ops import Target, operator_command
from sdgcities.cli._report import answer, exit_code
from sdgcities.cli._sync import _index_entries
from sdgcities.cli._ui import ago, duration, printable
from sdgcities.cli.errors import CliError, ExitCode
from sdgcities.cli.main import app
from sdgcities.credentials import Outcome, Reason, TrustList, VerificationResult, Verifier

from .federation import TestFederation, now

VALID = answer(VerificationResult(Outcome.VALID))
INVALID = answer(VerificationResult(Outcome.INVALID, Reason.REVOKED))
UNDECIDED = answer(VerificationResult(Outcome.INDETERMINATE, Reason.STATUS_UNAVAILABLE))


@pytest.mark.parametrize(
    ("results", "code"),
    [
        ([VALID], ExitCode.OK),
        ([VALID, VALID], ExitCode.OK),
        ([VALID, UNDECIDED], ExitCode.CANNOT_DECIDE),
        ([VALID, INVALID], ExitCode.NOT_VALID),
        ([UNDECIDED, INVALID, VALID], ExitCode.NOT_VALID),
        ([UNDECIDED], ExitCode.CANNOT_DECIDE),
    ],
)
def test_exit_code_is_the_worst_answer(results: list[dict[str, Any]], code: ExitCode) -> None:
    assert exit_code(results) is code


@pytest.mark.parametrize(
    ("argument", "kind"),
    [
        ("https://sdgcities.example/registry/credentials/1", Kind.URL),
        ("http://127.0.0.1:8000/registry/credentials/1", Kind.URL),
        ("KE-NBO", Kind.CITY),
        ("ke-nbo", Kind.CITY),
        ("-", Kind.STDIN),
        ("eyJh.eyJp.c2ln", Kind.TOKEN),
        ("certificate.jwt", Kind.FILE),
        ("./KE-NBO", Kind.FILE),
        ("x" * 5000 + ".y.z", Kind.TOKEN),  # too long for a file name: not an OSError
    ],
)
def test_classify(argument: str, kind: Kind) -> None:
    assert classify(argument).kind is kind


def test_classify_prefers_an_existing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.b.c").write_text("token")
    assert classify("a.b.c").kind is Kind.FILE
    assert classify("KE-NBO").value == "KE-NBO"


def test_unwrap() -> None:
    assert unwrap("  a.b.c\n") == "a.b.c"
    assert unwrap(json.dumps({"jwt": " a.b.c ", "credential": {}})) == "a.b.c"
    assert unwrap('{"no": "jwt"}') == '{"no": "jwt"}'
    assert unwrap("{broken") == "{broken"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (5, "5 s"),
        (125, "2 min"),
        (3600, "1 h"),
        (5 * 3600 + 600, "5 h 10 min"),
        (3 * 86400, "3 days"),
        (3 * 86400 + 7200, "3 days 2 h"),
        (-90, "in 1 min"),
    ],
)
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_ago() -> None:
    assert ago(7200) == "2 h ago"
    assert ago(-600) == "10 min in the future (check this computer's clock)"


def test_printable_removes_control_characters() -> None:
    assert printable("Nai\x1b[2Jrobi\nnext\tline") == "Nai [2Jrobi next line"
    assert len(printable("x" * 1000, limit=10)) == 10


def test_settings_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    config = tmp_path / "sdgcities" / "config.toml"
    config.parent.mkdir()
    config.write_text(
        'root_thumbprints = ["' + "A" * 43 + '"]\nregistry_url = "https://r.example/"\n'
        'bundle_dir = "~/bundle"\n'
    )
    from_file = resolve_settings(
        config=None, root_thumbprints=None, registry_url=None, bundle_dir=None
    )
    assert from_file.root_thumbprints == {"A" * 43}
    assert from_file.registry() == "https://r.example"
    assert from_file.bundle_dir == Path("~/bundle").expanduser()
    assert from_file.config_path == config
    given = resolve_settings(
        config=None,
        root_thumbprints=["B" * 43 + "," + "C" * 43, "D" * 43],
        registry_url="https://other.example",
        bundle_dir=tmp_path / "b",
    )
    assert given.root_thumbprints == {"B" * 43, "C" * 43, "D" * 43}
    assert (given.registry(), given.bundle_dir) == ("https://other.example", tmp_path / "b")


def test_settings_without_a_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    settings = resolve_settings(
        config=None, root_thumbprints=None, registry_url=None, bundle_dir=None
    )
    assert settings.config_path is None
    assert settings.bundle_dir == tmp_path / "data" / "sdgcities" / "bundle"
    with pytest.raises(CliError) as raised:
        settings.pins()
    assert raised.value.exit_code is ExitCode.USAGE
    with pytest.raises(CliError) as missing:
        settings.registry()
    assert missing.value.exit_code is ExitCode.USAGE


def client_for(handler: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=False)


def test_fetch_refuses_redirects() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(301, headers={"Location": "https://evil.example/x"})

    with pytest.raises(_http.FetchError, match="redirects are not followed") as raised:
        _http.fetch_bytes(client_for(handler), "https://a.example/x", accept="*/*", max_bytes=10)
    assert raised.value.status == 301
    assert seen == ["/x"]


def test_fetch_caps_the_body() -> None:
    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter([b"a" * 6, b"a" * 6]))  # no Content-Length

    with pytest.raises(_http.FetchError, match="larger than 10 bytes"):
        _http.fetch_bytes(client_for(handler), "https://a.example/x", accept="*/*", max_bytes=10)
    assert (
        _http.fetch_bytes(client_for(handler), "https://a.example/x", accept="*/*", max_bytes=12)
        == b"a" * 12
    )


def test_fetch_gives_up_on_a_dripping_server() -> None:
    def drip() -> Iterator[bytes]:
        for _ in range(10):
            time.sleep(0.05)
            yield b"a"

    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=drip())

    client = httpx.Client(transport=httpx.MockTransport(handler), timeout=0.04)
    with pytest.raises(_http.FetchError, match="too slow"):
        _http.fetch_bytes(client, "https://a.example/x", accept="*/*", max_bytes=100)


def test_fetch_refuses_a_compressed_answer() -> None:
    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x", headers={"Content-Encoding": "gzip"})

    with pytest.raises(_http.FetchError, match="content coding"):
        _http.fetch_bytes(client_for(handler), "https://a.example/x", accept="*/*", max_bytes=10)


def test_fetch_asks_for_no_content_coding() -> None:
    headers: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        headers.append(request.headers)
        return httpx.Response(200, content=b"a.b.c")

    with _http.new_client() as real:
        client = client_for(handler)
        client.headers = real.headers
        token = _http.fetch_token(
            client, "https://a.example/x", accept="application/vc+jwt", max_bytes=10
        )
    assert token == "a.b.c"
    assert headers[0]["accept-encoding"] == "identity"
    assert headers[0]["accept"] == "application/vc+jwt"


def test_status_list_fetcher_answers_cannot_decide() -> None:
    from sdgcities.credentials import StatusListUnavailable

    def handler(_request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(StatusListUnavailable, match="unreachable"):
        _http.HttpStatusListFetcher(client_for(handler))("https://a.example/status/1")


def test_index_entries() -> None:
    fed = TestFederation()
    node = fed.node()
    url = fed.list_url()
    assert _index_entries({"lists": [{"url": url, "purpose": "message"}] * 2}, node) == [
        (url, "message")
    ]
    bad: object
    for bad in (
        [],
        {"lists": "no"},
        {"lists": [{"url": url, "purpose": "other"}]},
        # A node's lists are message lists: a revocation list is not one of them.
        {"lists": [{"url": url, "purpose": "revocation"}]},
        {"lists": [{"url": "https://elsewhere.example/status/1", "purpose": "message"}]},
        # A prefix that is not a path boundary is not "under" the base URL.
        {"lists": [{"url": fed.base_url + "evil/status/1", "purpose": "message"}]},
    ):
        with pytest.raises(ValueError, match=r"index|under"):
            _index_entries(bad, node)


def test_anchor_is_never_lowered(tmp_path: Path) -> None:
    fed = TestFederation()
    path = fed.write_bundle(tmp_path / "b", trust_list=fed.trust_list(sequence=8))
    older = fed.trust_list(sequence=3)
    write_bundle(
        path,
        trust_list=TrustList.from_jws(older, pinned_thumbprints=[fed.pin]),
        token=older,
        source="test",
        lists={},
        created_at=now(),
    )
    assert Anchor.read(path) is not None
    assert Anchor.read(path).highest_sequence_seen == 8  # type: ignore[union-attr]
    with pytest.raises(Exception, match="older than #8"):
        Bundle.open(path).accept([fed.pin], now=now())


def test_bundle_rewrite_removes_lists_no_longer_listed(tmp_path: Path) -> None:
    fed = TestFederation()
    path = fed.write_bundle(tmp_path / "b")
    assert len(list((path / "status").iterdir())) == 2
    fed.write_bundle(path, lists={fed.list_url(): fed.status_list()})
    assert len(list((path / "status").iterdir())) == 1


def test_offline_verify_in_process_touches_no_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every way out is made to raise: offline verification still answers."""
    fed = TestFederation()
    bundle = fed.write_bundle(tmp_path / "bundle", created_at=now() - timedelta(minutes=3))
    token, _ = fed.certificate()
    attempts: list[object] = []

    def refuse(*args: object, **_kwargs: object) -> None:
        attempts.append(args)
        raise AssertionError("offline verification tried the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(_http, "new_client", refuse)
    monkeypatch.setattr(httpx.Client, "send", refuse)
    result = CliRunner().invoke(
        app,
        [
            "verify",
            "--offline",
            "--json",
            token,
            "--bundle",
            str(bundle),
            "--registry-url",
            "http://10.255.255.1:9",
            "--root-thumbprint",
            fed.pin,
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["valid"] is True
    assert 180 <= document["trust"]["bundle_age_seconds"] < 300
    assert attempts == []


@pytest.mark.parametrize(
    ("requested", "size", "offline", "expected"),
    [
        (1, 50_000, True, 1),
        (0, 999, True, 1),  # auto: too small to be worth forking
        (0, 50_000, False, 1),  # online: never
        (4, 50_000, False, 1),
        (3, 50_000, True, 3),
        (8, 300, True, 2),  # no more workers than chunks of 200
    ],
)
def test_worker_count(requested: int, size: int, offline: bool, expected: int) -> None:
    assert _parallel.worker_count(requested, batch_size=size, offline=offline) == expected


def test_worker_count_auto_uses_the_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_parallel, "available_cpus", lambda: 6)
    assert _parallel.worker_count(0, batch_size=50_000, offline=True) == 6
    monkeypatch.setattr(_parallel, "can_fork", lambda: False)
    assert _parallel.worker_count(0, batch_size=50_000, offline=True) == 1


class DyingVerifier:
    """Answers valid in the parent; in a forked worker, the process dies (and says so in
    `died`, a file)."""

    def __init__(self, died: Path) -> None:
        self.parent = os.getpid()
        self.died = died

    def verify(self, _token: str) -> VerificationResult:
        if os.getpid() != self.parent:
            self.died.touch()
            os._exit(3)
        return VerificationResult(Outcome.VALID)


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_a_dead_worker_leaves_the_rest_to_this_process(tmp_path: Path) -> None:
    verifier = DyingVerifier(tmp_path / "died")
    with _parallel.answers(cast(Verifier, verifier), ["t"] * 450, workers=2) as chunks:
        answers = [a for chunk in chunks for a in chunk]
    assert [a["status"] for a in answers] == ["valid"] * 450
    assert verifier.died.exists()


def test_workers_that_cannot_start_leave_this_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def refuse() -> int:
        raise OSError("no more processes")

    monkeypatch.setattr(os, "fork", refuse)
    verifier = DyingVerifier(tmp_path / "died")
    with _parallel.answers(cast(Verifier, verifier), ["t"] * 450, workers=2) as chunks:
        answers = [a for chunk in chunks for a in chunk]
    assert [a["status"] for a in answers] == ["valid"] * 450
    assert not verifier.died.exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pipe sizes are Linux's")
def test_a_workers_answer_pipe_holds_several_spans(tmp_path: Path) -> None:
    import fcntl

    read, write = os.pipe()
    try:
        _parallel._widen(write)
        assert fcntl.fcntl(write, fcntl.F_GETPIPE_SZ) == _parallel.ANSWER_PIPE_BYTES
    finally:
        os.close(read)
        os.close(write)
    # Where the system refuses (here: not a pipe), the default buffer stays and nothing fails.
    with (tmp_path / "file").open("wb") as file:
        _parallel._widen(file.fileno())


def test_a_system_without_pipe_sizes_keeps_the_default_buffer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import fcntl

    monkeypatch.delattr(fcntl, "F_SETPIPE_SZ", raising=False)  # as on macOS
    read, write = os.pipe()
    try:
        _parallel._widen(write)
        os.write(write, b"still a pipe")
        assert os.read(read, 64) == b"still a pipe"
    finally:
        os.close(read)
        os.close(write)


OPERATOR_GROUPS = ("users", "tokens", "frameworks", "meetings", "federation", "spot-checks")
CONNECTION_OPTIONS = ["--node-url", "--token-file", "--config", "--json"]


# Commands of an operator group that anyone runs with no account: they take the verifier's
# trust options (a pinned root key, the registry) instead of a node and a token.
PUBLIC_COMMANDS = {("spot-checks", "verify")}
TRUST_OPTIONS = ["--json", "--root-thumbprint", "--registry-url", "--config", "--timeout"]


def test_every_operator_command_ends_with_the_connection_options() -> None:
    root = cast(Any, typer.main.get_command(app))
    for group in OPERATOR_GROUPS:
        for name, command in root.commands[group].commands.items():
            options = [param.opts[0] for param in command.params]
            if (group, name) in PUBLIC_COMMANDS:
                assert options[-5:] == TRUST_OPTIONS, f"{group} {name}"
                continue
            assert options[-4:] == CONNECTION_OPTIONS, f"{group} {name}"
            assert options.count("--json") == 1


def test_operator_command_hands_the_options_over_as_one_target(tmp_path: Path) -> None:
    seen: list[tuple[Target, str]] = []
    group = typer.Typer()

    @operator_command(group, "probe")
    def probe(target: Target, word: str) -> None:
        seen.append((target, word))

    @group.callback()
    def keep_subcommands() -> None:
        """A callback keeps `probe` a subcommand: Typer runs a lone command as the app itself."""

    config = tmp_path / "config.toml"
    result = CliRunner().invoke(
        group, ["probe", "hello", "--node-url", "http://127.0.0.1:1", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    assert seen == [(Target("http://127.0.0.1:1", None, config, False), "hello")]


def test_operator_command_needs_a_target_parameter() -> None:
    def no_target(word: str) -> None:
        del word

    with pytest.raises(TypeError, match="must take `target: Target`"):
        operator_command(typer.Typer(), "lost")(no_target)


@pytest.mark.parametrize("manifest", ['{"format": 1}', None], ids=["damaged", "no-bundle-yet"])
def test_a_bundle_without_a_readable_source_names_no_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, manifest: str | None
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    if manifest is not None:
        (bundle / "manifest.json").write_text(manifest)
    settings = resolve_settings(
        config=None, root_thumbprints=None, registry_url=None, bundle_dir=bundle
    )
    with pytest.raises(CliError, match="no registry URL") as missing:
        settings.registry()
    assert missing.value.exit_code is ExitCode.USAGE


class AlternatingVerifier:
    """Valid, then revoked, then valid ...: answers that differ from one token to the next."""

    def verify(self, token: str) -> VerificationResult:
        if int(token) % 2:
            return VerificationResult(Outcome.INVALID, Reason.REVOKED, "the certificate is revoked")
        return VerificationResult(Outcome.VALID, None, "valid")


@pytest.mark.parametrize("indent", [None, 2])
def test_a_streamed_batch_writes_the_document_write_json_writes(
    indent: int | None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sdgcities.cli import _verify
    from sdgcities.cli._trustdata import Trust

    verifier = cast(Verifier, AlternatingVerifier())
    trust = Trust(verifier, {"mode": "offline", "bundle": "b"}, "summary")
    tokens = [str(n) for n in range(450)]  # five spans of 200 lines, a comment between tokens
    lines = [n * 2 + 1 for n in range(450)]
    batch = Batch("\n# next\n".join(tokens).encode(), "b")
    monkeypatch.setattr(_verify, "json_indent", lambda: indent)

    code = _verify._stream_batch_json(trust, batch, 1)

    answers = [answer(verifier.verify(token)) for token in tokens]
    document = {
        "results": [{"line": line, **a} for line, a in zip(lines, answers, strict=True)],
        "summary": {
            "total": 450,
            "valid": 225,
            "invalid": 225,
            "indeterminate": 0,
            "by_reason": {"revoked": 225},
            "exit_code": 1,
        },
        "trust": trust.info,
    }
    expected = (
        json.dumps(document, indent=2)
        if indent is not None
        else json.dumps(document, separators=(",", ":"))
    )
    assert capsys.readouterr().out == expected + "\n"
    assert code == ExitCode.NOT_VALID


class ProcessNamingVerifier(AlternatingVerifier):
    """AlternatingVerifier's answers, each with the id of the process that gave it. A worker
    answers only once this process has verified a token (and touched `verified_here`): else a
    fast worker may take every task before this process takes one."""

    def __init__(self, verified_here: Path) -> None:
        self.parent = os.getpid()
        self.verified_here = verified_here

    def verify(self, token: str) -> VerificationResult:
        if os.getpid() == self.parent:
            self.verified_here.touch()
        else:
            deadline = time.monotonic() + 10
            while not self.verified_here.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        result = super().verify(token)
        return VerificationResult(result.outcome, result.reason, str(os.getpid()))


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_workers_answer_a_batch_file_as_this_process_does(tmp_path: Path) -> None:
    verifier = cast(Verifier, ProcessNamingVerifier(tmp_path / "verified here"))
    batch = Batch("".join(f"{n}\n" for n in range(450)).encode(), "b")
    written: list[str] = []
    outcomes = _parallel.stream_json(verifier, batch, workers=2, write=written.append, indent=None)
    results = json.loads("[" + "".join(written) + "]")
    assert [r["line"] for r in results] == list(range(1, 451))
    assert [r["status"] for r in results] == ["valid", "invalid"] * 225
    assert outcomes == [("valid", None), ("invalid", "revoked")] * 225
    # Two processes verified: this one (the span not handed out first) and the worker.
    verified_by = {r["message"] for r in results}
    assert str(os.getpid()) in verified_by
    assert verified_by - {str(os.getpid())}


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_a_dead_worker_leaves_the_rest_of_a_batch_file_to_this_process(tmp_path: Path) -> None:
    verifier = DyingVerifier(tmp_path / "died")
    batch = Batch(b"t\n" * 450, "b")
    written: list[str] = []
    outcomes = _parallel.stream_json(
        cast(Verifier, verifier), batch, workers=2, write=written.append, indent=None
    )
    results = json.loads("[" + "".join(written) + "]")
    assert [r["line"] for r in results] == list(range(1, 451))
    assert outcomes == [("valid", None)] * 450
    assert verifier.died.exists()


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("workers", [1, 2])
def test_streamed_line_numbers_count_every_line_break_of_the_spans_before(
    indent: int | None, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A CR, a form feed and a line separator each end a line as a newline does, in spans of
    # two newlines: a span after one of them starts further down than its newlines say.
    monkeypatch.setattr(_inputs, "SPAN_LINES", 2)
    text = "0\r1\n2\n\x0c3\n4\n5\u20286\n7\n8\n9"
    batch = Batch(text.encode(), "b")
    verifier = cast(Verifier, AlternatingVerifier())
    written: list[str] = []
    _parallel.stream_json(verifier, batch, workers=workers, write=written.append, indent=indent)
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line]
    separator = "," if indent is None else ",\n    "
    expected = separator.join(
        _parallel.render_json({"line": n, **answer(verifier.verify(token))}, indent=indent, level=2)
        for n, token in lines
    )
    assert "".join(written) == expected
    assert [n for n, _token in lines] == [1, 2, 3, 5, 6, 7, 8, 9, 10, 11]


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_workers_reaped_by_someone_else_are_no_error() -> None:
    # A program that ignores SIGCHLD (or reaps every child) leaves no worker to wait for.
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        outcomes = _parallel.stream_json(
            cast(Verifier, AlternatingVerifier()),
            Batch("".join(f"{n}\n" for n in range(900)).encode(), "b"),
            workers=2,
            write=lambda _text: None,
            indent=None,
        )
    finally:
        signal.signal(signal.SIGCHLD, previous)
    assert outcomes == [("valid", None), ("invalid", "revoked")] * 450


def test_a_batch_read_span_by_span_has_the_lines_of_the_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every line break `str.splitlines` knows, a CRLF, invalid UTF-8 before a newline, blank
    # lines and comments, cut into spans of two lines.
    text = (
        b"a\r\nb\rc\x0bd\x0ce\x1cf\x1dg\x1eh\xc2\x85i\xe2\x80\xa8j\xe2\x80\xa9k\n"
        b"\n  # note\n\xe2\x80\n l \n\n\nm\r\n\r\nn"
    )
    monkeypatch.setattr(_inputs, "SPAN_LINES", 2)
    batch = Batch(text, "b")
    whole = text.decode("utf-8", errors="replace").splitlines()
    expected = [(n, line.strip()) for n, line in enumerate(whole, 1)]
    expected = [(n, token) for n, token in expected if token and not token.startswith("#")]
    spans = list(batch.spans())
    assert len(spans) > 5
    assert b"".join(text[start:stop] for start, stop in spans) == text
    assert batch.items() == expected
    assert expected[-1] == (len(whole), "n")


@pytest.mark.parametrize(("total", "processes"), [(10_000, 2), (10_000, 8), (450, 2), (7, 1)])
def test_tasks_shrink_towards_the_end_of_a_batch(total: int, processes: int) -> None:
    sizes = list(_inputs.span_sizes(total, processes))
    assert sum(sizes) == total
    assert max(sizes) <= _inputs.SPAN_LINES
    assert sizes == sorted(sizes, reverse=True)
    # Whatever a process still holds when the others run out of work is a small task.
    assert all(size <= _inputs.MIN_SPAN_LINES for size in sizes[-2 * processes :])


class NaNDecisionVerifier:
    """Valid, with a certificate whose decision is `{"line": NaN}`: what the strict parser never
    lets through, and the mark a span's results are cut at."""

    def verify(self, token: str) -> VerificationResult:
        credential = {"id": token, "credentialSubject": {"decision": {"line": float("nan")}}}
        return VerificationResult(Outcome.VALID, None, "valid", credential)


@pytest.mark.parametrize("indent", [None, 2])
def test_a_result_holding_the_mark_is_written_as_any_other(indent: int | None) -> None:
    verifier = cast(Verifier, NaNDecisionVerifier())
    batch = Batch(b"a\n\nb\n", "b")
    written: list[str] = []
    _parallel.stream_json(verifier, batch, workers=1, write=written.append, indent=indent)
    expected = _parallel.separator(indent).join(
        _parallel.render_json({"line": n, **answer(verifier.verify(t))}, indent=indent, level=2)
        for n, t in [(1, "a"), (3, "b")]
    )
    assert "".join(written) == expected
