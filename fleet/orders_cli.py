"""`fleet order ...`, `fleet events tail` and `fleet inventory reset`."""

import argparse
import json
import uuid
from pathlib import Path
from typing import Any

import httpx

from contracts.api import OrderView
from contracts.orders import OrderStatus
from contracts.roles import Role
from contracts.topics import ORDER_EVENTS
from fleet import console, kafka_io, topology, watch_view
from fleet.api_tokens import bearer
from fleet.provision.progress import progress
from fleet.secrets import sidecar_headers


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    order = commands.add_parser("order", help="place and inspect orders").add_subparsers(
        dest="order_command", required=True
    )
    place = order.add_parser("place", help="publish an order to Kafka (or --http to the API)")
    place.add_argument("--file", type=Path, help="a JSON file with the order payload")
    place.add_argument("--order-id", default=None)
    place.add_argument("--customer", default="cust-cli")
    place.add_argument("--item", action="append", default=[], metavar="SKU:QTY", help="repeatable")
    place.add_argument("--token", default="tok_visa", help="tok_visa, tok_decline, tok_flaky")
    place.add_argument("--country", default="DE")
    place.add_argument("--http", action="store_true", help="POST to the API instead of Kafka")
    place.add_argument("--plain", action="store_true", help="plain JSON, not a CloudEvent")
    get = order.add_parser("get", help="one order's status, step and history")
    get.add_argument("order_id")
    get.add_argument("--json", action="store_true")
    listing = order.add_parser("list", help="orders from the read model")
    listing.add_argument("--status", choices=[s.value for s in OrderStatus])
    listing.add_argument("--json", action="store_true")
    watch = order.add_parser("watch", help="follow an order's steps live until it ends")
    watch.add_argument("order_id")
    watch.add_argument("--timeout", type=float, default=300.0)
    watch.add_argument("--json", action="store_true", help="the order as JSON, a line per change")

    approve = order.add_parser("approve", help="publish an approval to order-approvals")
    approve.add_argument("order_id")
    approve.add_argument("--reason")
    reject = order.add_parser("reject", help="publish a rejection to order-approvals")
    reject.add_argument("order_id")
    reject.add_argument("--reason", required=True)
    cancel = order.add_parser("cancel", help="cancel an order that has not shipped")
    cancel.add_argument("order_id")
    cancel.add_argument("--reason", default="cancelled from the CLI")
    purge = order.add_parser("purge", help="remove finished orders' workflow state")
    purge.add_argument("--older-than", required=True, help="age since finishing: 90s, 30m, 12h, 7d")

    events = commands.add_parser("events", help="the order-events stream").add_subparsers(
        dest="events_command", required=True
    )
    tail = events.add_parser("tail", help="follow order-events (a kafka-python consumer)")
    tail.add_argument("--from-beginning", action="store_true")
    tail.add_argument("--order-id", help="only this order's events")
    tail.add_argument("--json", action="store_true")

    inventory = commands.add_parser("inventory", help="catalog administration").add_subparsers(
        dest="inventory_command", required=True
    )
    inventory.add_parser("reset", help="reseed the catalog from its data file")


def _order_from_args(args: argparse.Namespace) -> dict[str, Any]:
    if args.file:
        loaded: dict[str, Any] = json.loads(args.file.read_text())
        return loaded
    items = []
    for item in args.item or ["SKU-KEYBOARD:1"]:
        sku, _, quantity = item.partition(":")
        items.append({"sku": sku, "quantity": int(quantity or 1)})
    return {
        "order_id": args.order_id or f"ord-{uuid.uuid4().hex[:12]}",
        "customer_id": args.customer,
        "items": items,
        "shipping_address": {
            "name": "Ada Lovelace",
            "line1": "12 Analytical Row",
            "city": "London",
            "postal_code": "N1 9GU",
            "country": args.country,
        },
        "payment_token": args.token,
    }


def cmd_place(args: argparse.Namespace) -> int:
    order = _order_from_args(args)
    if args.http:
        response = httpx.post(
            f"{topology.API_URL}/orders", json=order, headers=bearer(), timeout=30
        )
        if response.status_code != 202:
            console.error(f"✗ HTTP {response.status_code}: {response.text}")
            return 1
    else:
        kafka_io.publish_order(order, as_cloudevent=not args.plain)
    print(f"placed {order['order_id']}  (fleet order watch {order['order_id']})")
    return 0


def _get(order_id: str) -> OrderView | None:
    response = httpx.get(f"{topology.API_URL}/orders/{order_id}", headers=bearer(), timeout=10)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return OrderView.model_validate(response.json())


def cmd_get(args: argparse.Namespace) -> int:
    view = _get(args.order_id)
    if view is None:
        console.error(f"no order {args.order_id}")
        return 1
    if args.json:
        print(view.model_dump_json(indent=2))
        return 0
    print(f"{view.order_id}  {view.status.value}  step={view.step}  total={view.total}")
    if view.failure_reason:
        print(f"  reason: {view.failure_reason}")
    if view.trace_id:
        print(f"  trace:  {topology.ZIPKIN_URL}/zipkin/traces/{view.trace_id}")
    for record in view.history:
        detail = f"  ({record.detail})" if record.detail else ""
        print(f"  {record.at:%H:%M:%S.%f}"[:-3] + f"  {record.step}{detail}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    params = {"status": args.status} if args.status else {}
    response = httpx.get(f"{topology.API_URL}/orders", params=params, headers=bearer(), timeout=10)
    response.raise_for_status()
    orders = response.json()["orders"]
    if args.json:
        print(json.dumps(orders, indent=2))
        return 0
    rows = [
        [o["order_id"], o["status"], o["total"] or "-", o["customer_id"] or "-", o["updated_at"]]
        for o in orders
    ]
    print(console.table(["ORDER", "STATUS", "TOTAL", "CUSTOMER", "UPDATED"], rows))
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    mode: watch_view.Mode = "json" if args.json else "live" if console.is_terminal() else "plain"
    return watch_view.watch(args.order_id, fetch=_get, mode=mode, timeout=args.timeout)


def cmd_events_tail(args: argparse.Namespace) -> int:
    try:
        for record in kafka_io.consume(ORDER_EVENTS, from_beginning=args.from_beginning):
            if record is None:
                continue
            event = json.loads(record.value)
            if args.order_id and event.get("subject") != args.order_id:
                continue
            if args.json:
                print(json.dumps(event), flush=True)
                continue
            data = event.get("data", {})
            kind = str(event.get("type", "?")).split(".")[-2]
            extras = {
                k: v
                for k, v in data.items()
                if k not in {"order_id", "occurred_at", "type", "trace_id", "sequence", "status"}
            }
            print(
                f"{data.get('occurred_at', '')[:23]}  {event.get('subject')}  "
                f"#{data.get('sequence')} {kind:<18} {data.get('status', '')}  "
                f"{json.dumps(extras, default=str)[:120]}",
                flush=True,
            )
    except KeyboardInterrupt:
        return 0
    return 0


def cmd_inventory_reset(args: argparse.Namespace) -> int:
    response = httpx.post(
        f"http://127.0.0.1:{topology.ORCHESTRATOR.dapr_http_port}"
        "/v1.0/invoke/inventory/method/inventory.reset",
        json={},
        headers=sidecar_headers("orchestrator"),
        timeout=30,
    )
    response.raise_for_status()
    items = response.json()["items"]
    print(f"catalog reseeded: {len(items)} items")
    return 0


def _post(path: str, body: dict[str, Any]) -> int:
    response = httpx.post(f"{topology.API_URL}{path}", json=body, headers=bearer(), timeout=30)
    if response.status_code >= 400:
        console.error(f"✗ HTTP {response.status_code}: {response.text}")
        return 1
    print(json.dumps(response.json()))
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    body = {
        "approved": args.order_command == "approve",
        "reason": args.reason,
    }
    return _post(f"/orders/{args.order_id}/approval", body)


def cmd_cancel(args: argparse.Namespace) -> int:
    return _post(f"/orders/{args.order_id}/cancel", {"reason": args.reason})


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_age(text: str) -> float:
    number, unit = text[:-1], text[-1:]
    if unit not in _UNITS or not number.replace(".", "", 1).isdigit():
        raise SystemExit(f"--older-than takes a number and a unit (s, m, h, d), got {text!r}")
    return float(number) * _UNITS[unit]


def cmd_purge(args: argparse.Namespace) -> int:
    seconds = parse_age(args.older_than)
    with progress("purge") as shown:
        shown.phase(f"purging the workflow state of orders finished over {args.older_than} ago")
        response = httpx.delete(
            f"{topology.API_URL}/orders",
            params={"older_than_s": seconds},
            headers=bearer(Role.ADMIN),
            timeout=300,
        )
    response.raise_for_status()
    print(f"purged {response.json()['purged']} finished orders older than {args.older_than}")
    return 0


def dispatch(args: argparse.Namespace) -> int:
    if args.command == "order":
        handler = {
            "place": cmd_place,
            "get": cmd_get,
            "list": cmd_list,
            "watch": cmd_watch,
            "approve": cmd_decide,
            "reject": cmd_decide,
            "cancel": cmd_cancel,
            "purge": cmd_purge,
        }
        return handler[args.order_command](args)
    if args.command == "events":
        return cmd_events_tail(args)
    return cmd_inventory_reset(args)
