// The console reads and writes only through the public JSON API (see /docs), as the
// signed-in identity.
import { signOut, token } from "./session.js";

export class ApiError extends Error {
  constructor(status, detail) {
    super(`HTTP ${status}: ${detail}`);
    this.status = status;
  }
}

async function call(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: {
      accept: "application/json",
      authorization: `Bearer ${token() || ""}`,
      ...(options.headers || {}),
    },
  });
  // The token expired or was revoked: back to the sign-in form.
  if (response.status === 401) signOut();
  if (!response.ok) {
    let detail = response.statusText;
    try {
      const body = await response.json();
      detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    } catch {
      // not JSON: keep the status text
    }
    throw new ApiError(response.status, detail);
  }
  return response.json();
}

const id = (value) => encodeURIComponent(value);

export function listOrders(status, limit = 200) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (status) query.set("status", status);
  return call(`/orders?${query}`);
}

export function getOrder(orderId) {
  return call(`/orders/${id(orderId)}`);
}

// null while the read model has not seen the order's first event yet.
export async function getEvents(orderId) {
  try {
    return await call(`/orders/${id(orderId)}/events`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export function getNotifications(customerId) {
  return call(`/customers/${id(customerId)}/notifications`);
}

// Publishes the decision to `order-approvals` through the API; the workflow acts on it.
// The API names the signed-in identity as its approver.
export function decide(orderId, approved, reason) {
  return call(`/orders/${id(orderId)}/approval`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ approved, reason: reason || null }),
  });
}
