import { getEvents, getNotifications, getOrder, ApiError } from "./api.js";
import { decisionControls } from "./decide.js";
import { diagram } from "./diagram.js";
import { h, Section } from "./dom.js";
import { clock, dateTime, eventKind, money, parseTime, statusBadge } from "./format.js";

const zipkin = document.querySelector('meta[name="zipkin-url"]')?.content || "";
// Fields every event carries; the events table shows the rest.
const COMMON = new Set(["order_id", "sequence", "occurred_at", "status", "trace_id", "type"]);

function facts(view, customerId) {
  const trace = view.trace_id
    ? h("a", { id: "trace-link", href: `${zipkin}/zipkin/traces/${encodeURIComponent(view.trace_id)}`, target: "_blank", rel: "noopener" }, "open in Zipkin ↗")
    : h("span", { class: "muted" }, "no trace id yet");
  const pairs = [
    ["Status", statusBadge(h, view.status)],
    ["Step", h("span", { id: "order-step" }, view.step || "—")],
    ["Amount", money(view.total)],
    ["Customer", customerId || "—"],
    ["Created", dateTime(view.created_at)],
    ["Updated", dateTime(view.updated_at)],
    ["Trace", trace],
  ];
  if (view.failure_reason) pairs.push(["Reason", h("span", { class: "reason-text" }, view.failure_reason)]);
  return h("dl", { class: "facts" }, pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function timeline(view) {
  if (!view.history.length) return h("li", { class: "muted" }, "No steps yet.");
  const start = parseTime(view.history[0].at);
  return view.history.map((record, index) => {
    const current = index === view.history.length - 1 && record.step === view.step;
    return h("li", { class: current ? "current" : "", "data-step": record.step },
      h("span", { class: "when", title: record.at }, clock(record.at)),
      h("span", { class: "offset" }, `+${((parseTime(record.at) - start) / 1000).toFixed(1)}s`),
      h("strong", {}, record.step),
      record.detail ? h("span", { class: "detail" }, record.detail) : null);
  });
}

function details(data) {
  return Object.entries(data)
    .filter(([key]) => !COMMON.has(key))
    .map(([key, value]) => `${key}=${typeof value === "object" ? JSON.stringify(value) : value}`)
    .join("  ");
}

function eventsTable(events) {
  if (events === null) return h("p", { class: "muted" }, "The read model has not seen this order's events yet.");
  if (!events.length) return h("p", { class: "muted" }, "No events recorded for this order.");
  return h("table", { id: "order-events" },
    h("thead", {}, h("tr", {}, ["#", "Event", "Status", "At", "Details"].map((c) => h("th", {}, c)))),
    h("tbody", {}, events.map((event) => h("tr", { "data-event-id": event.id },
      h("td", { class: "num" }, event.sequence),
      h("td", {}, eventKind(event.type)),
      h("td", {}, event.data.status || ""),
      h("td", { title: event.data.occurred_at }, clock(event.data.occurred_at)),
      h("td", { class: "detail" }, details(event.data))))));
}

function notificationList(notifications) {
  if (notifications === null) return h("li", { class: "muted" }, "Customer not known yet.");
  if (!notifications.length) return h("li", { class: "muted" }, "No notifications sent.");
  return notifications.map((n) => h("li", { "data-kind": n.kind },
    h("span", { class: "when" }, clock(n.occurred_at)), h("strong", {}, n.kind), ` ${n.message}`));
}

export function mount(root, orderId) {
  const heading = h("h2", {}, "Order ", h("code", { id: "order-id" }, orderId));
  const summary = new Section(h("div", { id: "order-facts" }));
  const decision = new Section(h("div", { id: "order-decision" }));
  const flow = new Section(h("div", { class: "diagram" }));
  const steps = new Section(h("ol", { id: "order-timeline", class: "timeline" }));
  const events = new Section(h("div", { id: "order-events-section" }));
  const notes = new Section(h("ul", { id: "order-notifications", class: "timeline" }));
  const missing = h("p", { class: "error", hidden: true });
  root.append(
    h("p", {}, h("a", { href: "#/orders" }, "← all orders")),
    heading, missing, summary.node, decision.node,
    h("section", {}, h("h3", {}, "Workflow"), flow.node),
    h("div", { class: "columns" },
      h("section", {}, h("h3", {}, "Step timeline"), steps.node),
      h("section", {}, h("h3", {}, "Notifications"), notes.node)),
    h("section", {}, h("h3", {}, "Events"), events.node),
  );

  async function refresh() {
    let view;
    try {
      view = await getOrder(orderId);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
      missing.hidden = false;
      missing.textContent = `No order ${orderId} (yet): the page keeps looking.`;
      return;
    }
    missing.hidden = true;
    const stored = await getEvents(orderId);
    const customerId = stored?.customer_id || null;
    const inbox = customerId ? await getNotifications(customerId) : null;
    summary.show({ view, customerId }, () => facts(view, customerId));
    decision.show(view.status, (status) =>
      status === "AWAITING_APPROVAL" ? decisionControls(orderId) : []);
    flow.show({ step: view.step, status: view.status, history: view.history }, () => diagram(view));
    steps.show(view.history, () => timeline(view));
    events.show(stored?.events ?? null, eventsTable);
    notes.show(
      inbox ? inbox.notifications.filter((n) => n.order_id === orderId) : null,
      notificationList,
    );
  }

  return { refresh };
}
