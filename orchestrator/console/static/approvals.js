import { listOrders } from "./api.js";
import { decisionControls } from "./decide.js";
import { h } from "./dom.js";
import { age, money } from "./format.js";

export function mount(root) {
  const body = h("tbody");
  const empty = h("p", { id: "approvals-empty", class: "empty", hidden: true }, "No orders await approval.");
  root.append(
    h("div", { class: "toolbar" }, h("h2", {}, "Approvals")),
    h("p", { class: "muted" },
      "Orders whose total reached the approval threshold. A decision goes to ",
      h("code", {}, "order-approvals"), " (POST /orders/{id}/approval) and the workflow acts on it."),
    h("table", { id: "approvals-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Order"), h("th", {}, "Customer"), h("th", { class: "num" }, "Amount"),
        h("th", { class: "num" }, "Waiting"), h("th", {}, "Decision"))),
      body),
    empty,
  );
  // Rows are kept by order id across refreshes: a reason being typed must survive a poll.
  const rows = new Map();

  async function refresh() {
    const { orders } = await listOrders("AWAITING_APPROVAL");
    const now = Date.now();
    const waiting = new Set(orders.map((o) => o.order_id));
    for (const [orderId, tr] of rows) {
      if (!waiting.has(orderId)) {
        tr.remove();
        rows.delete(orderId);
      }
    }
    for (const order of orders) {
      let tr = rows.get(order.order_id);
      if (!tr) {
        const link = h("a", { href: `#/orders/${encodeURIComponent(order.order_id)}` }, order.order_id);
        tr = h("tr", { "data-order-id": order.order_id },
          h("td", {}, link), h("td", {}, order.customer_id || "—"),
          h("td", { class: "num" }, money(order.total)), h("td", { class: "num waiting" }),
          h("td", {}, decisionControls(order.order_id)));
        rows.set(order.order_id, tr);
      }
      tr.querySelector(".waiting").textContent = age(order.updated_at, now);
      body.append(tr); // re-appending keeps the API's order (newest first)
    }
    empty.hidden = orders.length > 0;
  }

  return { refresh };
}
