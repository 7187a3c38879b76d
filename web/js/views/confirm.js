// Confirmation: the server-rendered plan inside a sandboxed iframe. The frame posts
// {type: "clpr:confirm" | "clpr:cancel" | "clpr:height", render: nonce, …}; we accept a message only from that
// frame's window and only with this render's nonce (the origin of a sandboxed frame is "null").

import { api } from "../api.js";
import { T } from "../texts.js";
import { h, heading, showErrorSummary } from "../dom.js";
import { randomHex } from "../format.js";
import { openClaimFresh, planMatches, submissionOutdated } from "../claim-model.js";
import { justConfirmed } from "../session.js";
import { claimPath } from "./wizard.js";
import { toCheckStale } from "./wait.js";

const MAX_FRAME_HEIGHT = 5000; // px; a document taller than this scrolls inside the frame
const PROBE_HEIGHT = 160; // px; see `sizeFrame`
const SETTLE_MS = 120; // reports come in bursts (load, then one per resize): act on the newest
const NO_REPORT_MS = 3000; // the document reports its height on load; silence means it did not render

export async function confirmView(ctx) {
  const id = ctx.params.id;
  const s = await ctx.guard(openClaimFresh(id));
  const claim = s.claim;
  if (claim.status !== "draft" || claim.is_confirmed) return ctx.go(claimPath(id), { replace: true });
  if (!claim.submission_id) return ctx.go(claimPath(id, "/check"), { replace: true });
  // Edited since it was sent: the old plan must not be offered.
  if (submissionOutdated(claim)) return toCheckStale(ctx, s);
  if (!planMatches(claim)) return ctx.go(claimPath(id, "/wait"), { replace: true });

  const submissionId = claim.submission_id;
  let nonce = "";
  let probedWidth = -1; // frame width at the last shrink probe
  let reported = false;
  let reportTimer = null;
  let settleTimer = null;
  let lastHeight = 0;
  const frame = h("iframe", {
    id: "confirmation-frame",
    class: "confirmation-frame",
    sandbox: "allow-scripts",
    title: T.confirm.frameTitle,
  });
  const errors = h("div", { class: "error-slot" });
  const status = h("p", { class: "status-text", id: "confirm-status", role: "status", "aria-live": "polite" });
  let busy = false;

  // A fresh document with a new nonce: the old one's button stays disabled after a click, and its messages no
  // longer count.
  const renderFrame = () => {
    nonce = randomHex(16);
    probedWidth = -1;
    reported = false;
    delete frame.dataset.settled;
    frame.src = api.confirmationUrl(id, nonce);
  };

  // The frame's document reports documentElement.scrollHeight, which is never less than the frame's own height
  // (its viewport), and a report may describe a height the frame had a moment ago. So act only on the newest
  // report, once they stop coming: it was measured at the current height, and
  //  - larger than the frame: the document's real height, use it;
  //  - equal: the document fits, but may be shorter: unless its real height is known for this width, shrink
  //    the frame once and the document, resized, reports its real height.
  const sizeFrame = () => {
    const cs = getComputedStyle(frame);
    const borders = (parseFloat(cs.borderTopWidth) || 0) + (parseFloat(cs.borderBottomWidth) || 0);
    const inner = frame.clientHeight;
    const want = Math.min(MAX_FRAME_HEIGHT, Math.ceil(lastHeight));
    frame.classList.add("confirmation-frame--sized");
    if (want > inner + 1) {
      frame.style.height = `${want + borders}px`;
      probedWidth = frame.clientWidth; // a real measurement: no need to probe at this width
    } else if (probedWidth !== frame.clientWidth && inner > PROBE_HEIGHT && inner < MAX_FRAME_HEIGHT) {
      probedWidth = frame.clientWidth;
      frame.style.height = `${PROBE_HEIGHT + borders}px`;
    } else {
      frame.dataset.settled = "true";
      return;
    }
    delete frame.dataset.settled;
  };

  // A 409 for the document (edited elsewhere meanwhile) shows up as a frame that never reports: look again.
  const checkSilence = async () => {
    if (reported || !ctx.alive()) return;
    try {
      const fresh = await api.claim(id);
      if (!ctx.alive() || reported) return;
      s.adopt(fresh);
      if (fresh.status !== "draft" || fresh.is_confirmed) return ctx.go(claimPath(id), { replace: true });
      if (submissionOutdated(fresh) || !planMatches(fresh)) return toCheckStale(ctx, s);
      showErrorSummary(errors, [{ id: null, message: T.confirm.frameFailed }]);
    } catch (e) {
      if (!ctx.alive()) return;
      if (e.status === 401) return ctx.fail(e);
      showErrorSummary(errors, [{ id: null, message: e.message }]);
    }
  };
  frame.addEventListener("load", () => {
    clearTimeout(reportTimer);
    reportTimer = setTimeout(checkSilence, NO_REPORT_MS);
  });

  const decide = async (confirming) => {
    if (busy) return;
    busy = true;
    showErrorSummary(errors, []);
    status.textContent = confirming ? T.confirm.confirming : T.confirm.cancelling;
    try {
      if (confirming) {
        const c = await api.confirm(id, submissionId);
        s.adopt(c);
        justConfirmed.set(id);
        // A plan that lists documents continues with the documents step.
        ctx.go(claimPath(id, c.status === "awaiting_documents" ? "/documents" : ""), { replace: true });
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
        // Changed elsewhere since this page opened: show the stored answers on the check page.
        try {
          s.adopt(await api.claim(id));
        } catch (e2) {
          // the check page reads the claim again if it can
        }
        return toCheckStale(ctx, s);
      }
      if (e.code === "not_a_draft") return ctx.go(claimPath(id), { replace: true });
      // Anything else (network, server): the frame's button is disabled now, so show a fresh document.
      renderFrame();
      showErrorSummary(errors, [{ id: null, message: confirming ? `${T.confirm.failed} ${e.message}` : e.message }]);
    }
  };

  const onMessage = (ev) => {
    if (ev.source !== frame.contentWindow) return;
    const d = ev.data;
    if (!d || typeof d !== "object" || d.render !== nonce) return;
    if (d.type === "clpr:height") {
      const height = Number(d.height);
      if (!Number.isFinite(height) || height <= 0) return;
      reported = true;
      clearTimeout(reportTimer);
      lastHeight = height;
      clearTimeout(settleTimer);
      settleTimer = setTimeout(sizeFrame, SETTLE_MS);
      return;
    }
    if (d.type === "clpr:confirm") decide(true);
    else if (d.type === "clpr:cancel") decide(false);
  };
  window.addEventListener("message", onMessage);
  ctx.onCleanup(() => {
    window.removeEventListener("message", onMessage);
    clearTimeout(reportTimer);
    clearTimeout(settleTimer);
  });

  renderFrame();
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
