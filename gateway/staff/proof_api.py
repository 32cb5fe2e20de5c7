"""`GET /v1/shipments/{id}/proofs/{proof_id}`: a delivery's proof for the portal that owns the shipment.

Another portal's shipment, or a proof of another shipment, answers 404 as a missing one does. Postal staff
read proofs on their own page (/staff/postal/{id}/proofs/{proof_id}), scoped to their office.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.params import PathParameter

from gateway.db.request_session import READ_ONLY, request_session
from gateway.deps import provide_client
from gateway.openapi import NO_NUL, PORTAL_KEY, problems
from gateway.shipments.controller import shipment_service
from gateway.staff.proofs import proof_of_shipment, proof_response

ShipmentId = Annotated[str, PathParameter(pattern=NO_NUL, max_length=64)]
ProofId = Annotated[str, PathParameter(pattern=r"^prf_[a-z0-9]{1,36}$")]


class ProofController(Controller):
    path = "/v1/shipments"
    tags = ["shipments"]
    security = PORTAL_KEY

    @get(
        "/{shipment_id:str}/proofs/{proof_id:str}",
        operation_id="getShipmentProof",
        opt=READ_ONLY,
        media_type="application/octet-stream",
        responses=problems(404),
    )
    async def get_proof(
        self, request: Request[Any, Any, Any], state: State, shipment_id: ShipmentId, proof_id: ProofId
    ) -> Response[bytes]:
        """A proof of delivery as it was recorded (JPEG, PNG or PDF; its SHA-256 in `Repr-Digest`)."""
        caller = await provide_client(request, state)
        service = shipment_service(state, request_session(state, request.scope))
        shipment = await service.get(caller, shipment_id)
        return proof_response(await proof_of_shipment(service.session, proof_id, shipment.id))
