from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from sdgcities.credentials.jws import MAX_TOKEN_BYTES
from sdgcities.node.deps import Anyone, ReadSessionOpenerDep, StateDep
from sdgcities.node.schemas import RequestModel

from .service import verify_token

router = APIRouter(tags=["verification"])
VERIFY_PATH = "/verify"


class VerifyRequest(RequestModel):
    # One byte over the verifier's cap still reaches it, so the answer is its precise reason
    # ("malformed: larger than 64 KiB"), not a schema error.
    jwt: str = Field(min_length=1, max_length=MAX_TOKEN_BYTES + 1)


class VerifyAnswer(BaseModel):
    """`credentials.VerificationResult.to_json()`, described for the OpenAPI document."""

    valid: bool
    status: Literal["valid", "invalid", "indeterminate"]
    reason: str | None
    message: str
    issuer: str | None
    credential: dict[str, Any] | None


@router.post(VERIFY_PATH, response_model=VerifyAnswer)
async def verify(
    body: VerifyRequest, state: StateDep, open_session: ReadSessionOpenerDep, _actor: Anyone
) -> Response:
    """Verify any certificate of the federation against this node's trust list.

    Answers 200 with `{"valid", "status", "reason", "message", "issuer", "credential"}` whatever
    the verdict; `status` is `valid`, `invalid` or `indeterminate` (cannot decide).
    """
    result = await verify_token(
        verifiers=state.verifiers, token=body.jwt, open_session=open_session
    )
    # Encoded here: a returned dict would be validated and encoded by FastAPI in a second trip
    # through the thread pool, which costs more than the verification itself.
    return Response(
        json.dumps(result.to_json(), ensure_ascii=False, separators=(",", ":")),
        media_type="application/json",
    )
