// The order workflow's steps in the order orchestrator/workflows/order.py runs them.
export const STEPS = ["quote", "reserve", "approval", "charge", "ship", "deliver", "complete"];
export const COMPENSATE = "compensate";

// The read model keeps an order's last event, not its step: each event names the step
// that produced it, which is what the orders table shows.
const EVENT_STEP = {
  accepted: "quote",
  stock_reserved: "reserve",
  approval_requested: "approval",
  approved: "approval",
  payment_charged: "charge",
  shipment_created: "ship",
  shipped: "ship",
  delivered: "deliver",
  delivery_overdue: "deliver",
  completed: "complete",
  shipment_cancelled: COMPENSATE,
  payment_refunded: COMPENSATE,
  stock_released: COMPENSATE,
  compensated: COMPENSATE,
};

export function stepOfEvent(kind) {
  return EVENT_STEP[kind] || null;
}

// Each node's state for an order view (GET /orders/{id}): done, current, skipped or pending.
export function nodeStates(view) {
  const visited = new Set((view.history || []).map((record) => record.step));
  const current = view.status === "COMPLETED" ? "complete" : view.step;
  const reached = STEPS.map((step) => visited.has(step) || step === current);
  const states = {};
  STEPS.forEach((step, index) => {
    if (step === current) states[step] = "current";
    else if (visited.has(step)) states[step] = "done";
    // Orders under the threshold go straight from reserve to charge.
    else if (reached.slice(index + 1).some(Boolean)) states[step] = "skipped";
    else states[step] = "pending";
  });
  states[COMPENSATE] =
    current === COMPENSATE ? "current" : visited.has(COMPENSATE) ? "done" : "pending";
  return states;
}
