// Choose the claim type, then create the draft and open the wizard.

import { api } from "../api.js";
import { T } from "../texts.js";
import { h, backLink, heading, showErrorSummary } from "../dom.js";
import { radiosField } from "../fields.js";
import { findType, loadClaimTypes, rememberClaim } from "../claim-model.js";

export async function typeView(ctx) {
  const types = await ctx.guard(loadClaimTypes());
  if (!types.length) {
    ctx.render("type", T.type.heading, [backLink("#/"), heading(T.type.heading), h("p", { class: "body" }, T.type.none)]);
    return;
  }
  const errors = h("div", { class: "error-slot" });
  const field = radiosField({
    name: "type_code",
    idPrefix: "type",
    legend: T.type.heading,
    legendIsHeading: true,
    hint: T.type.hint,
    options: types.map((t) => ({ value: t.code, label: t.title, hint: t.description })),
    value: ctx.query.type || "",
  });
  const submit = h("button", { type: "submit", class: "button", id: "start-wizard" }, T.type.start);
  const form = h("form", { novalidate: true, class: "form" }, field.el, submit);

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (submit.disabled) return;
    const code = field.getValue();
    if (!code) {
      field.setError(T.type.empty);
      showErrorSummary(errors, [{ id: field.focusId, message: T.type.empty }]);
      return;
    }
    submit.disabled = true;
    submit.textContent = T.type.starting;
    try {
      const claim = await api.createClaim(code);
      rememberClaim(claim, findType(types, claim.type_code || code));
      ctx.go(`/claims/${encodeURIComponent(claim.claim_id)}/step/1`);
    } catch (e) {
      if (!ctx.alive()) return;
      submit.disabled = false;
      submit.textContent = T.type.start;
      if (e.status === 401) return ctx.fail(e);
      if (e.field === "type_code" || e.code === "unknown_claim_type") {
        field.setError(e.message);
        showErrorSummary(errors, [{ id: field.focusId, message: e.message }]);
      } else {
        field.setError(null);
        showErrorSummary(errors, [{ id: null, message: e.message }]);
      }
    }
  });

  ctx.render("type", T.type.heading, [backLink("#/"), errors, form]);
}
