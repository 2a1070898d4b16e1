// The sign-in form, and the header's "signed in as" with its sign-out button.
import { h } from "./dom.js";
import { onChange, signIn, signOut, whoAmI } from "./session.js";

export function mountSignIn(root) {
  const field = h("textarea", {
    id: "token",
    rows: 4,
    placeholder: "eyJhbGciOi…",
    spellcheck: "false",
    autocomplete: "off",
  });
  const state = h("p", { id: "sign-in-state", class: "muted", role: "status" });
  const form = h("form", { id: "sign-in", class: "sign-in" },
    h("h2", {}, "Sign in"),
    h("p", { class: "muted" },
      "Paste a bearer token from your identity provider. In development, ",
      h("code", {}, "fleet credentials"), " prints one per role (client, operator, admin)."),
    h("label", { for: "token" }, "Token"), field,
    h("button", { type: "submit", id: "sign-in-button" }, "Sign in"),
    state);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    state.textContent = "checking…";
    try {
      await signIn(field.value.trim());
    } catch (error) {
      state.textContent = `not signed in: ${error.message}`;
    }
  });
  root.append(form);
}

export function mountIdentity(slot) {
  const render = (identity) => {
    if (!identity) {
      slot.replaceChildren();
      return;
    }
    const out = h("button", { id: "sign-out", type: "button", class: "link" }, "Sign out");
    out.addEventListener("click", signOut);
    slot.replaceChildren(
      h("span", { id: "signed-in-as", "data-role": identity.role },
        `${identity.subject} · ${identity.role}`),
      out);
  };
  onChange(render);
  render(whoAmI());
}
