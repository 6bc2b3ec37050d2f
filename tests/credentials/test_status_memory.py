"""A status list only moves forward, and the lists a verifier holds fit a memory budget."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sdgcities.credentials import (
    Outcome,
    Reason,
    StatusListCache,
    StatusListHistory,
    StatusListRollback,
    Verifier,
)
from tests.vectors.builders import (
    DEFAULT_INDEX,
    NOW,
    Scenario,
    certificate,
    federation,
    status_list_token,
    trust_list,
)

LIST_URL = federation().node("KE").list_url()


def _verifier(scenario: Scenario, **options) -> Verifier:
    return Verifier(
        trust_list(),
        fetcher=scenario.fetch,
        clock=lambda: NOW,
        status_max_age=timedelta(0),
        **options,
    )


def _revocation_list(*, revoked: bool, signed: timedelta) -> str:
    return status_list_token(
        "KE", revoked=[DEFAULT_INDEX] if revoked else [], valid_from=NOW - signed
    )


def test_an_older_list_replayed_after_a_revocation_is_cannot_decide():
    token = certificate()
    scenario = Scenario(token)
    verifier = _verifier(scenario)
    scenario.documents[LIST_URL] = _revocation_list(revoked=True, signed=timedelta(minutes=5))
    assert verifier.verify(token).reason is Reason.REVOKED

    # A mirror hands over the list from an hour ago, still within its validity.
    scenario.documents[LIST_URL] = _revocation_list(revoked=False, signed=timedelta(hours=1))
    result = verifier.verify(token)

    assert (result.outcome, result.reason) == (Outcome.INDETERMINATE, Reason.STATUS_LIST_ROLLBACK)
    assert "before the one already accepted" in result.message


def test_a_newer_list_moves_the_history_forward():
    token = certificate()
    scenario = Scenario(token)
    history = StatusListHistory()
    verifier = _verifier(scenario, history=history)
    scenario.documents[LIST_URL] = _revocation_list(revoked=False, signed=timedelta(hours=1))
    assert verifier.verify(token).valid
    scenario.documents[LIST_URL] = _revocation_list(revoked=True, signed=timedelta(minutes=1))

    assert verifier.verify(token).reason is Reason.REVOKED
    assert history.newest(LIST_URL) == NOW.replace(microsecond=0) - timedelta(minutes=1)


def test_the_history_outlives_the_verifier_when_it_is_handed_on():
    token = certificate()
    scenario = Scenario(token)
    history = StatusListHistory()
    scenario.documents[LIST_URL] = _revocation_list(revoked=True, signed=timedelta(minutes=5))
    assert _verifier(scenario, history=history).verify(token).reason is Reason.REVOKED
    scenario.documents[LIST_URL] = _revocation_list(revoked=False, signed=timedelta(hours=1))

    # A new trust list means a new verifier; the history goes with it.
    assert _verifier(scenario, history=history).verify(token).reason is (
        Reason.STATUS_LIST_ROLLBACK
    )
    # A verifier without it has nothing to compare with.
    assert _verifier(scenario).verify(token).valid


def test_a_list_held_in_the_cache_does_not_answer_once_a_newer_one_was_accepted():
    token = certificate()
    scenario = Scenario(token)
    history = StatusListHistory()
    scenario.documents[LIST_URL] = _revocation_list(revoked=False, signed=timedelta(hours=1))
    caching = Verifier(trust_list(), fetcher=scenario.fetch, clock=lambda: NOW, history=history)
    assert caching.verify(token).valid
    history.accept(LIST_URL, NOW - timedelta(minutes=1))

    assert caching.verify(token).reason is Reason.STATUS_LIST_ROLLBACK


def test_history_check_and_snapshot():
    history = StatusListHistory({"https://a/status/1": NOW})
    with pytest.raises(StatusListRollback):
        history.accept("https://a/status/1", NOW - timedelta(seconds=1))
    assert history.accept("https://a/status/1", NOW) is False
    assert history.accept("https://a/status/1", NOW + timedelta(seconds=1)) is True
    assert history.snapshot() == {"https://a/status/1": NOW + timedelta(seconds=1)}


def test_history_forgets_the_oldest_accepted_list_past_its_size():
    history = StatusListHistory(max_urls=2)
    for number in range(3):
        history.accept(f"https://a/status/{number}", NOW)

    assert sorted(history.snapshot()) == ["https://a/status/1", "https://a/status/2"]
    with pytest.raises(ValueError, match="positive"):
        StatusListHistory(max_urls=0)


def test_cache_keeps_the_most_recently_stored_within_its_budget():
    cache: StatusListCache[str] = StatusListCache(max_bytes=100)
    cache.put("a", "A", cost=40)
    cache.put("b", "B", cost=40)
    cache.put("a", "A", cost=40)  # stored again (refetched): now b was stored longest ago
    cache.put("c", "C", cost=40)

    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("A", None, "C")
    assert cache.bytes_held == 80
    cache.put("huge", "H", cost=101)
    assert cache.get("huge") is None
    assert cache.bytes_held == 80
    cache.put("a", "A2", cost=10)
    assert (cache.get("a"), cache.bytes_held) == ("A2", 50)
    cache.pop("a")
    cache.clear()
    assert (len(cache), cache.bytes_held) == (0, 0)


def test_many_distinct_lists_stay_within_the_verifiers_budget():
    node = federation().node("KE")
    budget = 300_000  # a default-size list costs about 33 KB held (token and bits)
    scenario = Scenario(certificate())
    verifier = Verifier(
        trust_list(), fetcher=scenario.fetch, clock=lambda: NOW, status_cache_bytes=budget
    )
    for number in range(40):
        url = f"{node.base_url}/status/x{number}"
        scenario.documents[url] = status_list_token("KE", url=url)
        assert verifier.verify(certificate(list_url=url)).valid

    held = verifier._status_cache
    assert 0 < held.bytes_held <= budget
    assert len(held) < 40
