"""Bulk orders: many orders in one request, each run as a child workflow."""

from typing import Final

from pydantic import BaseModel, ConfigDict, Field

from contracts.orders import OrderId, OrderRequest, OrderResult

BULK_REQUESTED_TYPE: Final = "com.orderfleet.order.bulk_requested.v1"
MAX_BULK_ORDERS = 200


class BulkOrderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bulk_id: OrderId
    orders: list[OrderRequest] = Field(min_length=1, max_length=MAX_BULK_ORDERS)


class BulkResult(BaseModel):
    bulk_id: str
    results: list[OrderResult]
