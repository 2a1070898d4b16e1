import { COMPENSATE, STEPS, nodeStates } from "./workflow.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 96;
const H = 40;
const GAP = 26;
const TOP = 14;
const LOW = 96;

function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  node.append(...children);
  return node;
}

function node(step, x, y, state, outcome, width = W) {
  const classes = `node ${state}${state === "current" && outcome ? ` ${outcome}` : ""}`;
  return s(
    "g",
    { class: classes, "data-step": step, "data-state": state },
    s("rect", { x, y, width, height: H, rx: 8 }),
    s("text", { x: x + width / 2, y: y + H / 2 + 5, "text-anchor": "middle" }, step),
  );
}

function outcomeOf(status) {
  if (status === "COMPLETED") return "ok";
  if (["REJECTED", "COMPENSATED", "CANCELLED", "FAILED", "DELIVERY_OVERDUE"].includes(status)) {
    return "ended";
  }
  return "";
}

// The order workflow as an SVG: the happy path in a row, the saga's compensation below.
export function diagram(view) {
  const states = nodeStates(view);
  const outcome = outcomeOf(view.status);
  const width = STEPS.length * W + (STEPS.length - 1) * GAP + 2 * TOP;
  const svg = s("svg", {
    id: "workflow-diagram",
    viewBox: `0 0 ${width} ${LOW + H + TOP}`,
    role: "img",
    "aria-label": `order workflow, current step ${view.step || "none"}`,
  });
  svg.append(
    s(
      "defs",
      {},
      s(
        "marker",
        { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" },
        s("path", { d: "M0,0 L10,5 L0,10 z" }),
      ),
    ),
  );
  const x = (index) => TOP + index * (W + GAP);
  STEPS.slice(1).forEach((_, index) => {
    const from = x(index) + W;
    svg.append(s("line", { class: "edge", x1: from, y1: TOP + H / 2, x2: from + GAP - 2, y2: TOP + H / 2, "marker-end": "url(#arrow)" }));
  });
  // Any step from reserve to ship can fail or be cancelled: the saga undoes what was done,
  // in reverse, in one compensate step drawn under them.
  const left = x(STEPS.indexOf("reserve"));
  const wide = x(STEPS.indexOf("ship")) + W - left;
  for (const step of ["reserve", "approval", "charge", "ship"]) {
    const fromX = x(STEPS.indexOf(step)) + W / 2;
    svg.append(s("line", { class: "edge undo", x1: fromX, y1: TOP + H, x2: fromX, y2: LOW - 2, "marker-end": "url(#arrow)" }));
  }
  STEPS.forEach((step, index) => svg.append(node(step, x(index), TOP, states[step], outcome)));
  svg.append(node(COMPENSATE, left, LOW, states[COMPENSATE], outcome, wide));
  return svg;
}
