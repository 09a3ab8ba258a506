"""JSON API of error-budget policies and the deploy gate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from watchkeeper.db import utcnow
from watchkeeper.dependencies import ReadToken, SessionDep, WriteToken
from watchkeeper.policy import gate, service
from watchkeeper.policy.schemas import GateRead, PolicyRead, gate_read
from watchkeeper.specs.native import policy_to_dict

router = APIRouter(prefix="/api/v1", tags=["policies"])


@router.get("/policies", response_model=list[PolicyRead])
def list_policies(session: SessionDep, _token: ReadToken) -> list[PolicyRead]:
    """Applied error-budget policies (apply them with POST /api/v1/slos)."""
    return [PolicyRead(name=p.name, spec=policy_to_dict(p)) for p in service.list_policies(session)]


@router.delete("/policies/{name}", status_code=204)
def delete_policy(name: str, session: SessionDep, _token: WriteToken) -> Response:
    """Remove a policy."""
    service.delete(session, name=name)
    return Response(status_code=204)


@router.get("/gate", response_model=GateRead)
def deploy_gate(
    session: SessionDep,
    _token: ReadToken,
    service_name: Annotated[str, Query(alias="service", min_length=1)],
    change_type: Annotated[
        str | None, Query(description="e.g. fix or rollback; rules may exempt it")
    ] = None,
) -> GateRead:
    """May this service deploy now? ``allowed`` is true only for an outright allow."""
    return gate_read(
        gate.check(session, service=service_name, change_type=change_type, now=utcnow())
    )
