"""`fleet trace ORDER_ID`: an order's Zipkin trace as a timeline tree in the terminal."""

import json
from collections import defaultdict
from typing import Any

import httpx

from fleet import console, topology
from fleet.api_tokens import bearer

BAR_WIDTH = 30


def fetch_trace(trace_id: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{topology.ZIPKIN_URL}/api/v2/trace/{trace_id}", timeout=10)
    if response.status_code == 404:
        return []
    response.raise_for_status()
    spans: list[dict[str, Any]] = response.json()
    return spans


def _service(span: dict[str, Any]) -> str:
    return str(span.get("localEndpoint", {}).get("serviceName", "?"))


def render(spans: list[dict[str, Any]]) -> list[str]:
    """One line per span, children under parents, with a bar placing it on the timeline."""
    if not spans:
        return []
    ids = {span["id"] for span in spans}
    children: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for span in spans:
        parent = span.get("parentId")
        children[parent if parent in ids else None].append(span)
    start = min(span.get("timestamp", 0) for span in spans)
    end = max(span.get("timestamp", 0) + span.get("duration", 0) for span in spans)
    total = max(end - start, 1)
    lines: list[str] = []

    def walk(span: dict[str, Any], depth: int) -> None:
        offset = span.get("timestamp", start) - start
        duration = span.get("duration", 0)
        left = int(offset / total * BAR_WIDTH)
        width = max(1, int(duration / total * BAR_WIDTH))
        bar = " " * left + "█" * min(width, BAR_WIDTH - left)
        error = span.get("tags", {}).get("error")
        label = f"{'  ' * depth}{_service(span)}: {span.get('name', '?')}"
        text = f"{label[:70]:<70} {duration / 1000:>9.1f} ms |{bar:<{BAR_WIDTH}}|"
        if error:
            text = console.paint(f"{text} ✗ {error}", "red")
        lines.append(text)
        for child in sorted(children.get(span["id"], []), key=lambda s: s.get("timestamp", 0)):
            walk(child, depth + 1)

    for root in sorted(children[None], key=lambda s: s.get("timestamp", 0)):
        walk(root, 0)
    return lines


def cmd_trace(order_id: str, as_json: bool) -> int:
    response = httpx.get(f"{topology.API_URL}/orders/{order_id}", headers=bearer(), timeout=10)
    if response.status_code == 404:
        console.error(f"no order {order_id}")
        return 1
    response.raise_for_status()
    trace_id = response.json().get("trace_id")
    if not trace_id:
        console.error(f"order {order_id} has no trace id")
        return 1
    spans = fetch_trace(trace_id)
    if as_json:
        print(json.dumps(spans, indent=2))
        return 0
    services = sorted({_service(span) for span in spans})
    print(f"trace {trace_id}: {len(spans)} spans from {', '.join(services) or 'no service yet'}")
    print(f"{topology.ZIPKIN_URL}/zipkin/traces/{trace_id}")
    for line in render(spans):
        print(line)
    return 0 if spans else 1
