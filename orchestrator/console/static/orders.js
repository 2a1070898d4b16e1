import { listOrders } from "./api.js";
import { h, Section } from "./dom.js";
import { age, eventKind, money, STATUSES, statusBadge } from "./format.js";
import { stepOfEvent } from "./workflow.js";

const LIMIT = 200;
// Kept across visits to the page, like the filters of a mail client.
const filters = { status: "", text: "" };

function matches(order, text) {
  if (!text) return true;
  const needle = text.toLowerCase();
  return [order.order_id, order.customer_id || ""].some((v) => v.toLowerCase().includes(needle));
}

function row(order, now) {
  const kind = eventKind(order.last_event);
  return h(
    "tr",
    { "data-order-id": order.order_id, "data-status": order.status },
    h("td", {}, h("a", { href: `#/orders/${encodeURIComponent(order.order_id)}` }, order.order_id)),
    h("td", {}, order.customer_id || "—"),
    h("td", {}, statusBadge(h, order.status)),
    // An order that ended without a step of its own (rejected, cancelled) shows that event.
    h("td", { class: stepOfEvent(kind) ? "step" : "step muted", title: `last event: ${kind}` },
      stepOfEvent(kind) || kind),
    h("td", { class: "num" }, money(order.total)),
    h("td", { class: "num", title: order.created_at }, age(order.created_at, now)),
  );
}

export function mount(root) {
  const status = h(
    "select",
    { id: "status-filter", onchange: (e) => { filters.status = e.target.value; refresh().catch(() => {}); } },
    h("option", { value: "" }, "all statuses"),
    STATUSES.map((s) => h("option", { value: s, selected: s === filters.status }, s)),
  );
  const text = h("input", {
    id: "text-filter",
    type: "search",
    placeholder: "order id or customer",
    value: filters.text,
    // `change` too: clearing the box programmatically fires no `input` event.
    oninput: (e) => { filters.text = e.target.value.trim(); render(); },
    onchange: (e) => { filters.text = e.target.value.trim(); render(); },
  });
  const count = h("span", { id: "orders-count", class: "muted" });
  const body = new Section(h("tbody"));
  root.append(
    h("div", { class: "toolbar" },
      h("h2", {}, "Orders"),
      h("label", {}, "Status ", status),
      h("label", {}, "Filter ", text),
      count),
    h("table", { id: "orders-table" },
      h("thead", {}, h("tr", {},
        ["Order", "Customer", "Status", "Step"].map((c) => h("th", {}, c)),
        ["Amount", "Age"].map((c) => h("th", { class: "num" }, c)))),
      body.node),
  );

  let last = [];
  function render() {
    const now = Date.now();
    const shown = last.filter((order) => matches(order, filters.text));
    const total = last.length >= LIMIT ? `the ${LIMIT} most recently active` : `${last.length}`;
    count.textContent = `${shown.length} shown of ${total} orders`;
    // Ages tick every second, so this section re-renders on every refresh.
    body.show({ shown, now: Math.floor(now / 1000) }, () =>
      shown.length
        ? shown.map((order) => row(order, now))
        : h("tr", {}, h("td", { colspan: 6, class: "empty" }, "No orders match.")),
    );
  }

  async function refresh() {
    const wanted = filters.status;
    const list = await listOrders(wanted, LIMIT);
    if (wanted !== filters.status) return; // a newer filter is already loading (its errors show on the next poll)
    last = list.orders;
    render();
  }

  return { refresh };
}
