// The console's shell: a hash router and one polling loop that refreshes the open view.
import { listOrders } from "./api.js";
import * as approvals from "./approvals.js";
import * as order from "./order.js";
import * as orders from "./orders.js";
import { resume, onChange, whoAmI } from "./session.js";
import { mountIdentity, mountSignIn } from "./signin.js";

const POLL_MS = 1500;
const live = document.getElementById("live");
const badge = document.getElementById("approval-count");
let view = null;
let timer = 0;
let generation = 0;

function pick(hash) {
  const path = hash.replace(/^#\/?/, "");
  const match = path.match(/^orders\/(.+)$/);
  if (match) return ["orders", (root) => order.mount(root, decodeURIComponent(match[1]))];
  if (path === "approvals") return ["approvals", approvals.mount];
  return ["orders", orders.mount];
}

async function refreshBadge() {
  const { orders: waiting } = await listOrders("AWAITING_APPROVAL");
  badge.textContent = waiting.length ? String(waiting.length) : "";
}

async function tick(gen) {
  // A hidden tab skips its polls; it refreshes as soon as it is shown again.
  if (!document.hidden) {
    try {
      await Promise.all([view.refresh(), refreshBadge()]);
      live.textContent = `live · ${new Date().toLocaleTimeString([], { hour12: false })}`;
      live.className = "live ok";
    } catch (error) {
      live.textContent = `offline: ${error.message}`;
      live.className = "live down";
    }
  }
  if (gen === generation) timer = setTimeout(() => tick(gen), POLL_MS);
}

// One loop at a time: a newer generation stops the older one at its next turn.
function restart() {
  generation += 1;
  clearTimeout(timer);
  tick(generation);
}

function route() {
  const root = document.getElementById("view");
  if (!whoAmI()) {
    // Nothing but the sign-in form until a token is accepted; no polling meanwhile.
    generation += 1;
    clearTimeout(timer);
    root.replaceChildren();
    live.textContent = "signed out";
    live.className = "live";
    mountSignIn(root);
    return;
  }
  const [section, mount] = pick(location.hash);
  for (const link of document.querySelectorAll("[data-nav]")) {
    link.classList.toggle("active", link.dataset.nav === section && !location.hash.includes("/orders/"));
  }
  root.replaceChildren();
  view = mount(root);
  restart();
}

window.addEventListener("hashchange", route);
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) restart();
});
mountIdentity(document.getElementById("identity"));
onChange(route);
resume().finally(route);
