import { decide } from "./api.js";
import { h } from "./dom.js";

// Decisions sent from this page, kept while the read model catches up with them, so a
// re-rendered row never offers the buttons again for an order already decided here.
const sent = new Map();

// Approve and reject buttons for one order awaiting approval.
export function decisionControls(orderId) {
  const reason = h("input", { class: "reason", placeholder: "reason (optional)", maxlength: 500 });
  const state = h("span", { class: "decision-state", role: "status" });
  const approve = h("button", { class: "approve", type: "button" }, "Approve");
  const reject = h("button", { class: "reject", type: "button" }, "Reject");
  const controls = h("div", { class: "decision", "data-order-id": orderId }, reason, approve, reject, state);

  const showSent = (text) => {
    for (const input of [reason, approve, reject]) input.disabled = true;
    state.textContent = `${text}; waiting for the workflow`;
    controls.classList.add("sent");
  };
  const send = async (approved) => {
    approve.disabled = reject.disabled = true;
    state.textContent = "sending…";
    try {
      const { approver } = await decide(orderId, approved, reason.value.trim());
      const text = approved ? `approved by ${approver}` : `rejected by ${approver}`;
      sent.set(orderId, text);
      showSent(text);
    } catch (error) {
      approve.disabled = reject.disabled = false;
      state.textContent = `not sent: ${error.message}`;
    }
  };
  approve.addEventListener("click", () => send(true));
  reject.addEventListener("click", () => send(false));
  if (sent.has(orderId)) showSent(sent.get(orderId));
  return controls;
}
