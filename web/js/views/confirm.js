// Confirmation: the server-rendered plan inside a sandboxed iframe. The frame posts
// {type: "clpr:confirm" | "clpr:cancel", render: nonce}; we accept a message only from that
// frame's window and only with this render's nonce (the origin of a sandboxed frame is "null").

import { api } from "../api.js";
import { T } from "../texts.js";
import { h, heading, showErrorSummary } from "../dom.js";
import { randomHex } from "../format.js";
import { openClaim, planMatches } from "../claim-model.js";
import { justConfirmed } from "../session.js";
import { claimPath } from "./wizard.js";

export async function confirmView(ctx) {
  const id = ctx.params.id;
  const s = await ctx.guard(openClaim(id));
  const claim = s.claim;
  if (claim.status !== "draft" || claim.is_confirmed) return ctx.go(claimPath(id), { replace: true });
  if (!claim.submission_id) return ctx.go(claimPath(id, "/check"), { replace: true });
  if (!planMatches(claim)) return ctx.go(claimPath(id, "/wait"), { replace: true });

  const submissionId = claim.submission_id;
  const nonce = randomHex(16);
  const frame = h("iframe", {
    id: "confirmation-frame",
    class: "confirmation-frame",
    sandbox: "allow-scripts",
    title: T.confirm.frameTitle,
    src: api.confirmationUrl(id, nonce),
  });
  const errors = h("div", { class: "error-slot" });
  const status = h("p", { class: "status-text", id: "confirm-status", role: "status", "aria-live": "polite" });
  let busy = false;

  const onMessage = async (ev) => {
    if (ev.source !== frame.contentWindow) return;
    const d = ev.data;
    if (!d || typeof d !== "object" || d.render !== nonce) return;
    if (d.type !== "clpr:confirm" && d.type !== "clpr:cancel") return;
    if (busy) return;
    busy = true;
    showErrorSummary(errors, []);
    const confirming = d.type === "clpr:confirm";
    status.textContent = confirming ? T.confirm.confirming : T.confirm.cancelling;
    try {
      if (confirming) {
        const c = await api.confirm(id, submissionId);
        s.adopt(c);
        justConfirmed.set(id);
        ctx.go(claimPath(id), { replace: true });
      } else {
        const c = await api.cancel(id, submissionId);
        s.adopt(c);
        ctx.go(claimPath(id, "/check"), { replace: true });
      }
    } catch (e) {
      if (!ctx.alive()) return;
      busy = false;
      status.textContent = "";
      if (e.status === 401) return ctx.fail(e);
      if (e.code === "plan_not_ready") return ctx.go(claimPath(id, "/wait"), { replace: true, flash: { text: T.confirm.notReady } });
      if (e.code === "stale_submission") {
        s.notice = T.check.stale;
        return ctx.go(claimPath(id, "/check"), { replace: true });
      }
      if (e.code === "not_a_draft") return ctx.go(claimPath(id), { replace: true });
      showErrorSummary(errors, [{ id: null, message: e.message }]);
    }
  };
  window.addEventListener("message", onMessage);
  ctx.onCleanup(() => window.removeEventListener("message", onMessage));

  ctx.render("confirm", T.confirm.heading, [
    errors,
    heading(T.confirm.heading),
    h("p", { class: "body" }, T.confirm.intro),
    status,
    h("div", { class: "frame-wrapper" }, frame),
    h("p", { class: "body" }, T.confirm.fallback, " ",
      h("a", { href: "#" + claimPath(id, "/check"), class: "link", id: "back-to-answers" }, T.confirm.backToAnswers)),
  ]);
}
