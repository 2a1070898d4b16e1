// Who is signed in: a bearer token (from the identity provider, or `fleet credentials`
// in development), kept for this tab only, and who the API says it belongs to.
const TOKEN_KEY = "order-fleet.token";
const listeners = new Set();
let identity = null; // { subject, role } once the API has accepted the token

export const token = () => sessionStorage.getItem(TOKEN_KEY);
export const whoAmI = () => identity;

export function onChange(listener) {
  listeners.add(listener);
}

function changed() {
  for (const listener of listeners) listener(identity);
}

// Asks the API who the token signs in as; a refused token is forgotten.
export async function signIn(candidate) {
  const response = await fetch("/me", {
    headers: { accept: "application/json", authorization: `Bearer ${candidate}` },
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(body.detail || `HTTP ${response.status}`);
  }
  sessionStorage.setItem(TOKEN_KEY, candidate);
  identity = await response.json();
  changed();
  return identity;
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  identity = null;
  changed();
}

// At load: a token kept from before this reload is checked again.
export async function resume() {
  const kept = token();
  if (!kept) return null;
  try {
    return await signIn(kept);
  } catch {
    signOut();
    return null;
  }
}
