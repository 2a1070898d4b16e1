"""`GET /orders/{id}/events`: one order's events, as the read model applied them."""

import json
from collections.abc import Callable

from fastapi import APIRouter, Depends, HTTPException, Request

from contracts.api import OrderEvents, StoredEventView
from contracts.roles import Role
from orchestrator.auth import Principal
from orchestrator.readmodel import ReadModel


def order_events_router(
    read_model: ReadModel, signed_in: Callable[[Request], Principal]
) -> APIRouter:
    router = APIRouter(tags=["orders"])

    @router.get("/orders/{order_id}/events")
    def get_order_events(order_id: str, who: Principal = Depends(signed_in)) -> OrderEvents:
        """From the read model projected from `order-events` (eventually consistent)."""
        summary = read_model.get(order_id)
        stored = read_model.events(order_id)
        theirs = who.may(Role.OPERATOR) or (summary and summary.customer_id == who.subject)
        if (summary is None and not stored) or not theirs:
            raise HTTPException(404, f"no events for order {order_id} in the read model")
        return OrderEvents(
            order_id=order_id,
            customer_id=summary.customer_id if summary else None,
            events=[
                StoredEventView(
                    id=event.event_id,
                    sequence=event.sequence,
                    type=event.type,
                    data=json.loads(event.data),
                )
                for event in stored
            ],
        )

    return router
