"""`federation.ingest`: what a verified report adds to a held log, and the signed receipt."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sdgcities.credentials import JwsToken, SigningKey, sign_jws
from sdgcities.federation import (
    GENESIS,
    REPORT_TYP,
    ForkDetected,
    ReportBatch,
    ReportInvalid,
    Rollback,
    SequenceGap,
    sign_report,
)
from sdgcities.federation.ingest import Receipt, impersonator, plan_ingest, sign_receipt

from .factories import T0, make_chain, trust_list, trusted_node

KE_KEY = SigningKey.generate()
GLOBAL_KEY = SigningKey.generate()
TRUST = trust_list(trusted_node("KE", KE_KEY), trusted_node("global", GLOBAL_KEY))
CHAIN = make_chain(6)


def _batch(events: list, *, after: int | None = None) -> ReportBatch:  # type: ignore[type-arg]
    token = sign_report(
        events,
        key=KE_KEY,
        node_id="KE",
        issuer_did="did:web:ke.example.org",
        issued_at=T0,
        after=after,
    )
    return ReportBatch.verify(token, trust_list=TRUST)


def _held(count: int) -> dict[int, str]:
    return {e.sequence: e.hash for e in CHAIN[:count]}


def test_new_events_continue_the_head() -> None:
    plan = plan_ingest(_batch(CHAIN[:3]), head=GENESIS, held={})
    assert [e.sequence for e in plan.new] == [1, 2, 3]
    assert plan.head == CHAIN[2].head


def test_overlap_with_the_same_hashes_is_skipped() -> None:
    plan = plan_ingest(_batch(CHAIN[1:5]), head=CHAIN[2].head, held=_held(3))
    assert [e.sequence for e in plan.new] == [4, 5]
    assert plan.already_held == 2
    nothing = plan_ingest(_batch(CHAIN[:2]), head=CHAIN[2].head, held=_held(3))
    assert (nothing.new, nothing.head) == ((), CHAIN[2].head)


def test_overlap_with_another_hash_is_a_fork() -> None:
    other = make_chain(3, data={"x": 1})
    with pytest.raises(ForkDetected) as caught:
        plan_ingest(_batch(other), head=CHAIN[2].head, held=_held(3))
    assert caught.value.sequence == 1
    branch = make_chain(1, previous=make_chain(3, data={"x": 1})[-1])
    with pytest.raises(ForkDetected) as caught:
        plan_ingest(_batch(branch), head=CHAIN[2].head, held={})
    assert caught.value.sequence == 3


def test_a_batch_past_the_head_is_a_gap() -> None:
    with pytest.raises(SequenceGap) as caught:
        plan_ingest(_batch(CHAIN[4:]), head=CHAIN[1].head, held={})
    assert (caught.value.first_missing, caught.value.last_missing) == (3, 4)


def test_empty_reports_say_where_the_log_ends() -> None:
    head = CHAIN[2].head
    assert plan_ingest(_batch([], after=3), head=head, held={}).new == ()
    with pytest.raises(Rollback):
        plan_ingest(_batch([], after=1), head=head, held={})
    with pytest.raises(SequenceGap):
        plan_ingest(_batch([], after=5), head=head, held={})


def test_receipts_verify_only_with_the_global_nodes_key() -> None:
    batch = _batch(CHAIN[:3])
    token = sign_receipt(
        batch,
        key=GLOBAL_KEY,
        issuer_did="did:web:global.example.org",
        added=3,
        head=batch.events[-1].head,
        issued_at=T0 + timedelta(seconds=1),
    )
    receipt = Receipt.verify(token, trust_list=TRUST, global_node_id="global")
    assert receipt.acknowledges(batch.token)
    assert (receipt.node_id, receipt.first, receipt.last, receipt.added) == ("KE", 1, 3, 3)
    assert receipt.head == CHAIN[2].head
    by_a_member = sign_receipt(
        batch,
        key=KE_KEY,
        issuer_did="did:web:ke.example.org",
        added=3,
        head=batch.events[-1].head,
        issued_at=T0,
    )
    with pytest.raises(ReportInvalid, match="not signed with a key of the global node"):
        Receipt.verify(by_a_member, trust_list=TRUST, global_node_id="global")
    with pytest.raises(ReportInvalid, match="not a federation receipt"):
        Receipt.verify(batch.token, trust_list=TRUST, global_node_id="global")
    # A member's real key, the kid naming the global node's DID.
    as_global = sign_receipt(
        batch,
        key=KE_KEY,
        issuer_did="did:web:global.example.org",
        added=3,
        head=batch.events[-1].head,
        issued_at=T0,
    )
    with pytest.raises(ReportInvalid, match="kid names another DID than the key's node"):
        Receipt.verify(as_global, trust_list=TRUST, global_node_id="global")


def test_a_member_key_signing_under_another_nodes_did_is_an_impersonator() -> None:
    payload = JwsToken.parse(_batch(CHAIN[:2]).token, typ=REPORT_TYP).verify(KE_KEY.public_key)
    as_global = sign_jws(payload, key=KE_KEY, did="did:web:global.example.org", typ=REPORT_TYP)
    with pytest.raises(ReportInvalid, match="kid names another DID"):
        ReportBatch.verify(as_global, trust_list=TRUST)
    assert impersonator(as_global, trust_list=TRUST) == "KE"
    assert impersonator(_batch(CHAIN[:2]).token, trust_list=TRUST) is None
