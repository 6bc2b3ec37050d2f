from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from sdgcities.credentials.jws import MAX_TOKEN_BYTES
from sdgcities.node.deps import Anyone, ReadSessionDep, StateDep
from sdgcities.node.schemas import RequestModel

router = APIRouter(tags=["verification"])


class VerifyRequest(RequestModel):
    # One byte over the verifier's cap still reaches it, so the answer is its precise reason
    # ("malformed: larger than 64 KiB"), not a schema error.
    jwt: str = Field(min_length=1, max_length=MAX_TOKEN_BYTES + 1)


@router.post("/verify")
def verify(
    body: VerifyRequest, state: StateDep, session: ReadSessionDep, _actor: Anyone
) -> dict[str, Any]:
    """Verify any certificate of the federation against this node's trust list.

    Answers 200 with `{"valid", "status", "reason", "message", "issuer", "credential"}` whatever
    the verdict; `status` is `valid`, `invalid` or `indeterminate` (cannot decide).
    """
    return state.verifiers.verify(body.jwt, session=session).to_json()
