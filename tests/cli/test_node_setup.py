"""Setting up a node from the README alone: `node init` (national nodes pin the root key through its
thumbprint and know the global node), `node serve` (refuses what would go wrong later: a folder
never initialised, a second server on one node, a busy port, bad settings, an absent database),
each failure in one line."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import POSTGRES_ADMIN_URL, TemporaryDatabases, require_postgres

from .conftest import SDGCITIES, Cli, Result, clean_environment
from .nodes import Node, free_port, init_node, node_environment

BAD_THUMBPRINT = "A" * 43


def run(*args: str, env: dict[str, str], cwd: Path) -> Result:
    return Cli(cwd=cwd, env=env).run(*args, timeout=120)


def off_path(env: dict[str, str]) -> dict[str, str]:
    """`env` with no PATH entry holding `sdgcities`: a fresh clone, .venv not activated."""
    parts = env.get("PATH", "").split(os.pathsep)
    return {
        **env,
        "PATH": os.pathsep.join(p for p in parts if not (Path(p) / "sdgcities").exists()),
    }


def assert_one_line(result: Result, code: int, *fragments: str) -> None:
    assert result.code == code, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


def wait_healthy(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not start")


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
    if process.stderr is not None:
        process.stderr.close()


# node init ---------------------------------------------------------------------------------------


@pytest.mark.slow  # a node served in its own process, and another command beside it
def test_init_prints_a_serve_command_that_works_as_printed(tmp_path: Path) -> None:
    data_dir = tmp_path / "ke"
    port = free_port()
    env = off_path(node_environment(data_dir))
    del env["SDGCITIES_DATA_DIR"]  # the printed command must carry --data-dir itself
    done = run(
        *("node", "init", "--data-dir", str(data_dir), "--node-id", "KE"),
        *("--base-url", f"http://127.0.0.1:{port}"),
        env=env,
        cwd=tmp_path,
    )
    assert done.code == 0, done.stderr
    lines = done.stdout.splitlines()
    command = lines[lines.index("The token is shown once; keep it. Start the node with:") + 1]
    assert command == f"  {SDGCITIES} node serve --data-dir {data_dir}"

    process = subprocess.Popen(
        ["bash", "-c", f"exec {command.strip()} --port {port}"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
    finally:
        stop(process)


def test_the_data_folder_and_database_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "node"
    env = node_environment(data_dir)
    done = subprocess.run(
        ["bash", "-c", f'umask 022 && exec "{SDGCITIES}" node init --json'],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    for database_file in data_dir.glob("node.db*"):  # and -wal, -shm while they exist
        assert stat.S_IMODE(database_file.stat().st_mode) == 0o600, database_file


def test_an_invalid_base_url_is_a_one_line_usage_error(tmp_path: Path) -> None:
    env = node_environment(tmp_path / "node")
    done = run("node", "init", "--base-url", "ftp://ke.example", env=env, cwd=tmp_path)
    assert_one_line(done, 2)
    assert done.stderr == (
        "error: --base-url: base URL 'ftp://ke.example' must be an absolute http(s) URL\n"
    )
    assert not (tmp_path / "node").exists()


def test_init_names_each_invalid_setting_on_its_own_line(tmp_path: Path) -> None:
    env = {**node_environment(tmp_path / "node"), "SDGCITIES_RATE_LIMIT_VERIFY_PER_MINUTE": "-1"}
    done = run("node", "init", "--node-id", "KEN", env=env, cwd=tmp_path)
    assert done.code == 2
    assert done.stderr.splitlines() == [
        "error: --node-id: node_id is an ISO 3166-1 alpha-2 code (KE) or 'global'",
        "error: SDGCITIES_RATE_LIMIT_VERIFY_PER_MINUTE: Input should be greater than or equal to 0",
    ]
    assert not (tmp_path / "node").exists()


@pytest.fixture(scope="module")
def global_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    world = init_node(tmp_path_factory.mktemp("global"), "global")
    world.serve()
    try:
        yield world
    finally:
        world.stop()


@pytest.mark.slow  # a node served in its own process, and another command beside it
def test_a_national_node_pins_the_root_key_its_thumbprint_names(
    global_node: Node, tmp_path: Path
) -> None:
    data_dir = tmp_path / "ke"
    kenya = init_node(
        data_dir,
        "KE",
        *("--global-url", global_node.url),
        *("--root-thumbprint", global_node.init["root_thumbprint"]),
    )
    settings = dict(line.split("=", 1) for line in (data_dir / "node.env").read_text().splitlines())
    assert settings["SDGCITIES_GLOBAL_URL"] == global_node.url
    root_jwk = json.loads((global_node.data_dir / "root-key.json").read_text())
    assert json.loads(settings["SDGCITIES_ROOT_KEYS"]) == [root_jwk]
    assert kenya.init["global_url"] == global_node.url


@pytest.mark.slow  # a node served in its own process, and another command beside it
def test_a_wrong_thumbprint_says_to_check_it_and_creates_nothing(
    global_node: Node, tmp_path: Path
) -> None:
    data_dir = tmp_path / "ke"
    done = run(
        *("node", "init", "--data-dir", str(data_dir)),
        *("--global-url", global_node.url, "--root-thumbprint", BAD_THUMBPRINT),
        env=node_environment(data_dir),
        cwd=tmp_path,
    )
    assert_one_line(done, 1, f"publishes no root key with thumbprint {BAD_THUMBPRINT}")
    assert "check the thumbprint" in done.stderr
    assert not data_dir.exists()


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("--root-thumbprint", BAD_THUMBPRINT), 2, "goes with --global-url"),
        (("--global-url", "http://127.0.0.1:9"), 2, "go together"),
        (("--global-url", "http://127.0.0.1:9", "--root-thumbprint", "short"), 2, "RFC 7638"),
        (
            ("--node-id", "global", "--global-url", "http://127.0.0.1:9"),
            2,
            "are for national nodes",
        ),
        (("--global-url", "closed", "--root-thumbprint", BAD_THUMBPRINT), 3, "check --global-url"),
    ],
)
def test_init_refuses_a_half_or_unreachable_connection(
    tmp_path: Path, args: tuple[str, ...], code: int, fragment: str
) -> None:
    data_dir = tmp_path / "ke"
    if "closed" in args:
        args = tuple(f"http://127.0.0.1:{free_port()}" if a == "closed" else a for a in args)
    done = run(
        "node",
        "init",
        "--data-dir",
        str(data_dir),
        *args,
        env=node_environment(data_dir),
        cwd=tmp_path,
    )
    assert_one_line(done, code, fragment)
    assert not data_dir.exists()


@pytest.mark.slow
def test_a_node_set_up_by_init_syncs_and_relays_once_approved(
    global_node: Node, tmp_path: Path
) -> None:
    kenya = init_node(
        tmp_path / "ke",
        "KE",
        *("--global-url", global_node.url),
        *("--root-thumbprint", global_node.init["root_thumbprint"]),
    )
    kenya.add_env(RELAY_HEARTBEAT_SECONDS="1")  # so that an idle node reports soon
    kenya.serve()
    try:
        home = tmp_path / "home"
        home.mkdir()
        ministry = Cli(cwd=home, env=clean_environment(home))
        ministry.env.update(SDGCITIES_NODE_URL=kenya.url, SDGCITIES_TOKEN=kenya.admin_token)
        secretariat = Cli(cwd=home, env=clean_environment(home))
        secretariat.env.update(
            SDGCITIES_NODE_URL=global_node.url, SDGCITIES_TOKEN=global_node.admin_token
        )
        joined = ministry.run("federation", "join", "--json")
        assert joined.code == 0, joined.stderr
        approved = secretariat.run("federation", "approve", str(joined.json()["request_id"]))
        assert approved.code == 0, approved.stderr
        synced = ministry.run("federation", "sync")
        assert synced.code == 0, synced.stderr

        deadline = time.monotonic() + 60
        heads: dict[str, int] = {}
        while "KE" not in heads and time.monotonic() < deadline:
            answer = httpx.get(
                f"{global_node.url}/federation/logs",
                headers={"Authorization": f"Bearer {global_node.admin_token}"},
                timeout=10,
            )
            heads = {log["node_id"]: log["head_sequence"] for log in answer.json()["data"]}
            time.sleep(0.5)
        assert "KE" in heads, "the national node's relay never reported"
    finally:
        kenya.stop()


# node serve --------------------------------------------------------------------------------------


def test_serve_refuses_a_folder_never_initialised_and_creates_nothing(tmp_path: Path) -> None:
    missing, empty = tmp_path / "typo", tmp_path / "empty"
    empty.mkdir()
    for data_dir in (missing, empty):
        done = run(
            *("node", "serve", "--data-dir", str(data_dir), "--port", str(free_port())),
            env=node_environment(data_dir),
            cwd=tmp_path,
        )
        assert_one_line(done, 2, f"{data_dir} holds no node", "node init --data-dir")
    assert not missing.exists()
    assert list(empty.iterdir()) == []


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Node]:
    node = init_node(tmp_path / "node", "KE").serve()
    try:
        yield node
    finally:
        node.stop()


@pytest.mark.slow  # a node served in its own process, and another command beside it
def test_a_second_serve_on_one_data_folder_refuses(served: Node, tmp_path: Path) -> None:
    node = served
    first = node.process
    assert first is not None
    done = run(
        *("node", "serve", "--data-dir", str(node.data_dir), "--port", str(free_port())),
        env=node_environment(node.data_dir),
        cwd=tmp_path,
    )
    assert_one_line(done, 1, "another `node serve` runs on the data folder", f"pid {first.pid}")
    assert first.poll() is None


@pytest.mark.slow  # a node served in its own process, and another command beside it
def test_a_busy_port_is_refused_before_start_up(served: Node, tmp_path: Path) -> None:
    node = served
    other = init_node(tmp_path / "other", "GH")
    log_before = sorted(p.name for p in other.data_dir.iterdir())
    done = run(
        *("node", "serve", "--data-dir", str(other.data_dir), "--port", str(node.port)),
        env=node_environment(other.data_dir),
        cwd=tmp_path,
    )
    assert done.stderr == (
        f"error: port {node.port} on 127.0.0.1 is already in use: choose another with --port\n"
    )
    assert done.code == 2
    assert done.stdout == ""  # uvicorn never started (it logs its start-up)
    assert sorted(p.name for p in other.data_dir.iterdir()) == [*log_before, "serve.lock"]


def test_invalid_settings_are_named_one_line_each(tmp_path: Path) -> None:
    node = init_node(tmp_path / "node", "KE")
    env = node_environment(node.data_dir)
    env.update(
        SDGCITIES_RATE_LIMIT_VERIFY_PER_MINUTE="-1",
        SDGCITIES_TRUSTED_PROXIES='["not a network"]',
    )
    done = run("node", "serve", "--port", str(free_port()), env=env, cwd=tmp_path)
    assert done.code == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 2, done.stderr
    assert lines[0].startswith("error: SDGCITIES_RATE_LIMIT_VERIFY_PER_MINUTE: ")
    assert "greater than or equal to 0" in lines[0]
    assert lines[1].startswith("error: SDGCITIES_TRUSTED_PROXIES: ")
    assert "http" not in done.stderr  # no link to pydantic's pages


# PostgreSQL --------------------------------------------------------------------------------------


def missing_database_url() -> str:
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/sdgcities_never_created"


def test_a_missing_database_is_one_line_with_a_hint(tmp_path: Path) -> None:
    require_postgres()
    url = missing_database_url()
    data_dir = tmp_path / "node"
    done = run(
        *("node", "init", "--data-dir", str(data_dir), "--database-url", url),
        env=node_environment(data_dir),
        cwd=tmp_path,
    )
    assert_one_line(done, 1, "has no database 'sdgcities_never_created'", "createdb")
    assert not data_dir.exists()

    node = init_node(tmp_path / "sqlite-node", "KE")  # a node whose database then goes away
    env = {**node_environment(node.data_dir), "SDGCITIES_DATABASE_URL": url}
    served = run("node", "serve", "--port", str(free_port()), env=env, cwd=tmp_path)
    assert_one_line(served, 1, "the node cannot start: PostgreSQL at", "createdb")


def test_a_refused_connection_is_one_line_with_a_hint(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    url = f"postgresql://postgres@127.0.0.1:{closed}/sdgcities"
    data_dir = tmp_path / "node"
    done = run(
        *("node", "init", "--data-dir", str(data_dir), "--database-url", url),
        env=node_environment(data_dir),
        cwd=tmp_path,
    )
    assert_one_line(
        done, 1, f"cannot connect to PostgreSQL at 127.0.0.1:{closed}", "is the server running"
    )
    assert not data_dir.exists()

    node = init_node(tmp_path / "sqlite-node", "KE")
    env = {**node_environment(node.data_dir), "SDGCITIES_DATABASE_URL": url}
    served = run("node", "serve", "--port", str(free_port()), env=env, cwd=tmp_path)
    assert_one_line(served, 1, "the node cannot start: cannot connect to PostgreSQL")


@pytest.mark.slow  # a node served in its own process, and another command beside it
def test_a_second_serve_on_one_postgres_database_refuses(
    tmp_path: Path, databases: TemporaryDatabases
) -> None:
    url = databases.create("postgresql")
    node = init_node(tmp_path / "a", "KE", "--database-url", url)
    copy = tmp_path / "b"  # another folder, the same node and database
    shutil.copytree(node.data_dir, copy)
    node.serve()
    try:
        done = run(
            *("node", "serve", "--data-dir", str(copy), "--port", str(free_port())),
            env=node_environment(copy),
            cwd=tmp_path,
        )
        assert_one_line(done, 1, "another `node serve` runs node KE on this database")
    finally:
        node.stop()
