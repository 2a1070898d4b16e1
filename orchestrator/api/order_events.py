"""`GET /orders/{id}/events`: one order's events, as the read model applied them."""

import json

from fastapi import APIRouter, HTTPException

from contracts.api import OrderEvents, StoredEventView
from orchestrator.readmodel import ReadModel


def order_events_router(read_model: ReadModel) -> APIRouter:
    router = APIRouter(tags=["orders"])

    @router.get("/orders/{order_id}/events")
    def get_order_events(order_id: str) -> OrderEvents:
        """From the read model projected from `order-events` (eventually consistent)."""
        summary = read_model.get(order_id)
        stored = read_model.events(order_id)
        if summary is None and not stored:
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
