export const TERMINAL = new Set([
  "COMPLETED", "REJECTED", "COMPENSATED", "CANCELLED", "FAILED", "DELIVERY_OVERDUE",
]);

export const STATUSES = [
  "PENDING", "AWAITING_APPROVAL", "RUNNING", ...TERMINAL,
];

// The API's timestamps are UTC, some without an offset: never read them as local time.
export function parseTime(iso) {
  return Date.parse(/(Z|[+-]\d\d:\d\d)$/.test(iso) ? iso : `${iso}Z`);
}

export function age(iso, now = Date.now()) {
  if (!iso) return "—";
  const seconds = Math.max(0, Math.floor((now - parseTime(iso)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

export function clock(iso) {
  if (!iso) return "—";
  const at = new Date(parseTime(iso));
  const ms = String(at.getMilliseconds()).padStart(3, "0");
  return `${at.toLocaleTimeString([], { hour12: false })}.${ms}`;
}

// 2026-01-31 14:05:09, in the browser's time zone: unambiguous whatever the locale.
export function dateTime(iso) {
  if (!iso) return "—";
  const at = new Date(parseTime(iso));
  const two = (n) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} `
    + `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
}

export function money(value) {
  return value === null || value === undefined ? "—" : String(value);
}

// "com.orderfleet.order.stock_reserved.v1" -> "stock_reserved"
export function eventKind(type) {
  const parts = String(type || "").split(".");
  return parts.length >= 2 ? parts[parts.length - 2] : String(type || "");
}

export function statusBadge(h, status) {
  return h("span", { class: `status status-${status}` }, status);
}
