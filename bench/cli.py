"""CLI figures: `sdgcities --help` start-up, and `verify --batch --offline` against the library.

1. `sdgcities --help`: wall time of the installed console script, median of 15 runs
   (target <= 0.5 s).
2. 10,000 certificates of one node (one revocation and one suspension list, ~1% revoked), signed
   once in this process, written to a batch file and an offline bundle. Timed end to end:
   `sdgcities verify --batch FILE --offline --json` (subprocess, median of 3: as shipped, which
   forks one worker per CPU for a batch this size, and with `--workers 1`, one process), and the
   library alone (one `Verifier` over the same tokens, in process, each result counted and let
   go as the command lets go of each once written; median of 3), the runs
   interleaved. All in certificates per second; the last line is the ratio of the command as
   shipped to the library (target >= 0.8).

Run: .venv/bin/python bench/cli.py [--certificates N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sdgcities.cli._bundle import write_bundle
from sdgcities.credentials import (
    MIN_ENTRIES,
    REVOKED_BIT,
    STATUS_SIZE,
    CertificateIssue,
    Decision,
    Endorsement,
    FrameworkRef,
    KeyPeriod,
    KeyStatus,
    NodeStatus,
    Reason,
    SigningKey,
    StatusBitstring,
    StatusEntry,
    TrustAnchor,
    TrustedNode,
    TrustList,
    Verifier,
    did_web_from_base_url,
    sign_status_list,
)

SDGCITIES = Path(sys.executable).parent / "sdgcities"
BASE_URL = "https://ke.sdgcities.example"
GLOBAL_DID = "did:web:sdgcities.example"
HELP_RUNS = 15
BATCH_RUNS = 3
REVOKED_SHARE = 0.01


def median_time(command: list[str], runs: int, *, env: dict[str, str], expect: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode != expect:
            sys.exit(f"{' '.join(command[:3])} exited {done.returncode}: {done.stderr.decode()}")
    return statistics.median(times)


def build(count: int, folder: Path) -> tuple[str, TrustList, dict[str, str], list[str]]:
    """The pin, the trust list, its status lists (url -> token) and `count` certificates."""
    now = datetime.now(UTC).replace(microsecond=0)
    root, key = SigningKey.generate(), SigningKey.generate()
    did = did_web_from_base_url(BASE_URL)
    framework = FrameworkRef("ke-national", "1", "sha256:" + "ab" * 32)
    since = now - timedelta(days=400)
    node = TrustedNode(
        id="KE",
        did=did,
        name="Kenya SDG Cities",
        base_url=BASE_URL,
        status=NodeStatus.ACTIVE,
        status_since=since,
        keys=(KeyPeriod(key.public_key, KeyStatus.ACTIVE, since),),
        frameworks=(
            Endorsement.sign(
                framework=framework,
                node_id="KE",
                root_key=root,
                issuer_did=GLOBAL_DID,
                endorsed_at=since,
            ),
        ),
    )
    token = TrustList(
        issuer=GLOBAL_DID,
        sequence=1,
        issued_at=now - timedelta(minutes=5),
        next_update=now + timedelta(days=1),
        nodes=(node,),
    ).sign(root)
    trust_list = TrustAnchor([root.kid]).accept(token)
    url = f"{BASE_URL}/status/1"
    bits = StatusBitstring(MIN_ENTRIES * STATUS_SIZE)
    indices = random.Random(7).sample(range(MIN_ENTRIES), count)
    for index in indices[: int(count * REVOKED_SHARE)]:
        bits.set_entry(index, REVOKED_BIT, status_size=STATUS_SIZE)
    lists = {
        url: sign_status_list(
            list_url=url,
            bitstring=bits,
            issuer_did=did,
            key=key,
            valid_from=now - timedelta(minutes=5),
            valid_until=now + timedelta(hours=48),
        )
    }
    issued = now - timedelta(days=30)
    tokens = []
    for n, index in enumerate(indices):
        issue = CertificateIssue(
            credential_id=f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
            issuer_did=did,
            issuer_name="Kenya SDG Cities",
            locode="KE-NBO",
            city_name="Nairobi",
            country="KE",
            stage="evidence-based-processes",
            framework=framework,
            decision=Decision("KE national committee", "2026-1", issued),
            criteria=("B.a", "B.b", "B.c"),
            valid_from=issued,
            valid_until=issued + timedelta(days=3 * 365),
            status=StatusEntry(url, index),
        )
        tokens.append(issue.sign(key, issued_at=issued))
    write_bundle(
        folder / "bundle",
        trust_list=trust_list,
        token=token,
        source=f"{BASE_URL}/federation/trust-list",
        lists=lists,
        created_at=now,
    )
    (folder / "batch.txt").write_text("\n".join(tokens) + "\n")
    return root.kid, trust_list, lists, tokens


def library_seconds(trust_list: TrustList, lists: dict[str, str], tokens: list[str]) -> float:
    """One pass of the library alone: a fresh `Verifier` (so status lists are read once), each
    result counted and let go, as the command lets go of each once it is written: keeping all
    10,000 (each with its certificate's parsed JSON) made the library 8-12% slower on a loaded
    machine, and the ratio to it as much too kind."""
    start = time.perf_counter()
    verifier = Verifier(trust_list, fetcher=lambda url: lists[url])
    valid = revoked = 0
    for token in tokens:
        result = verifier.verify(token)
        valid += result.valid
        revoked += result.reason is Reason.REVOKED
    elapsed = time.perf_counter() - start
    if valid + revoked != len(tokens):
        sys.exit(f"library: {valid} valid and {revoked} revoked of {len(tokens)}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=10_000)
    count = parser.parse_args().certificates

    # The command as installed: pip compiles its bytecode, so a PYTHONDONTWRITEBYTECODE in this
    # shell would have every timed run compile the CLI's modules again (about 0.3 s); the first
    # runs below write the bytecode.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SDGCITIES_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    help_time = median_time([str(SDGCITIES), "--help"], HELP_RUNS, env=env, expect=0)
    print(f"sdgcities --help: {help_time:.3f} s (median of {HELP_RUNS}; target <= 0.5 s)")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env["XDG_CONFIG_HOME"] = tmp  # no config file of the user's changes what is measured
        # ... and the runs keep their status-list history here, not in the user's: the bench's
        # lists would otherwise stay there and refuse another federation's lists at that URL.
        env["XDG_DATA_HOME"] = tmp
        start = time.perf_counter()
        pin, trust_list, lists, tokens = build(count, folder)
        print(f"signed {count} certificates in {time.perf_counter() - start:.1f} s")

        command = [
            str(SDGCITIES),
            "verify",
            "--batch",
            str(folder / "batch.txt"),
            "--offline",
            "--json",
            "--bundle",
            str(folder / "bundle"),
            "--root-thumbprint",
            pin,
        ]
        done = subprocess.run(command, env=env, capture_output=True, check=False)
        summary = json.loads(done.stdout)["summary"]
        if done.returncode != 1 or summary["total"] != count or summary["indeterminate"]:
            sys.exit(f"unexpected batch answer ({done.returncode}): {summary}")
        print(
            f"batch answer: {summary['valid']} valid, {summary['invalid']} not valid "
            f"{summary['by_reason']}, exit code {done.returncode}"
        )
        # Interleaved, so that a change in the machine's load touches both sides alike.
        single = [*command, "--workers", "1"]
        batch_times, single_times, library_times = [], [], []
        for _ in range(BATCH_RUNS):
            batch_times.append(median_time(command, 1, env=env, expect=1))
            single_times.append(median_time(single, 1, env=env, expect=1))
            library_times.append(library_seconds(trust_list, lists, tokens))

    library_rate = count / statistics.median(library_times)
    print(f"CPUs available: {len(os.sched_getaffinity(0))}")
    for label, times in (
        ("library Verifier.verify, in process", library_times),
        ("verify --batch --offline --json --workers 1", single_times),
        ("verify --batch --offline --json (default)", batch_times),
    ):
        seconds = statistics.median(times)
        print(
            f"{label}: {seconds:.2f} s, {count / seconds:,.0f} certificates/s "
            f"(median of {BATCH_RUNS}; ratio to the library {count / seconds / library_rate:.2f})"
        )
    batch_rate = count / statistics.median(batch_times)
    print(f"batch/library ratio: {batch_rate / library_rate:.2f}")


if __name__ == "__main__":
    main()
