"""A national node whose old key the global node marks compromised (DESIGN §3, "Cut-offs"): at
its next trust-list sync it re-signs, with its current key, the status lists the old key signed,
since verifiers trust no status list a compromised key signs. Both apps run in this process."""

from __future__ import annotations

from sqlmodel import Session, col, select

from sdgcities.credentials import VC_JWT_TYP, JwsToken, KeyStatus
from sdgcities.node.membership.tasks import sync_once
from sdgcities.node.status.models import StatusListRecord
from sdgcities.node.status.service import allocate_status_entry
from sdgcities.node.trust.service import load_current

from .conftest import Federation


def _list_kids(federation: Federation) -> dict[str, str]:
    with Session(federation.ke.engine) as session:
        records = session.exec(select(StatusListRecord).order_by(col(StatusListRecord.list_id)))
        return {r.list_id: JwsToken.parse(r.token, typ=VC_JWT_TYP).thumbprint for r in records}


def _compromise(federation: Federation, kid: str) -> None:
    response = federation.global_node.client.post(
        f"/federation/members/KE/keys/{kid}/compromise",
        json={"reason": "the key file was stolen"},
        headers=federation.global_node.admin,
    )
    assert response.status_code == 200, response.text


def test_the_lists_a_compromised_key_signed_are_re_signed_at_the_next_sync(
    federation: Federation,
) -> None:
    federation.join()
    ke = federation.ke
    old = ke.state.signing_key
    with Session(ke.engine) as session:
        status = allocate_status_entry(session=session, state=ke.state)
        session.commit()
    assert set(_list_kids(federation).values()) == {old.kid}
    rotated = ke.client.post("/admin/federation/keys/rotate", headers=ke.admin)
    assert rotated.status_code == 201, rotated.text
    new_kid = ke.state.signing_key.kid
    assert new_kid != old.kid
    assert set(_list_kids(federation).values()) == {old.kid}  # rotating re-signs nothing

    _compromise(federation, old.kid)
    sync_once(ke.state)

    assert set(_list_kids(federation).values()) == {new_kid}
    served = ke.client.get(f"/status/{status.list_id}")
    assert served.status_code == 200, served.text
    with Session(ke.engine) as session:
        trust_list = load_current(session=session, settings=ke.state.settings)
    assert trust_list is not None
    parsed = JwsToken.parse(served.text, typ=VC_JWT_TYP)
    found = trust_list.key(parsed.thumbprint)
    assert found is not None
    assert (found[1].public_key.kid, found[1].status) == (new_kid, KeyStatus.ACTIVE)
    assert parsed.verify(found[1].public_key)["id"] == status.entry.list_url


def test_a_node_that_has_not_rotated_keeps_its_lists_as_they_are(
    federation: Federation,
) -> None:
    federation.join()
    ke = federation.ke
    with Session(ke.engine) as session:
        allocate_status_entry(session=session, state=ke.state)
        session.commit()
    before = _list_kids(federation)

    _compromise(federation, ke.state.signing_key.kid)
    sync_once(ke.state)

    # Re-signing with the compromised key itself would change nothing a verifier trusts.
    assert _list_kids(federation) == before
