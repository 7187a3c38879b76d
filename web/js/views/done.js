// Claim page: the «Заявка принята» panel right after confirmation, and the status page later.

import { api } from "../api.js";
import { T, statusText } from "../texts.js";
import { h, button, heading, notice } from "../dom.js";
import { claimNumber, formatDate, formatDateTime } from "../format.js";
import { findType, loadClaimTypes, planDocuments, planMatches, planNextSteps } from "../claim-model.js";
import { justConfirmed } from "../session.js";
import { claimPath } from "./wizard.js";

async function copyText(text, holder) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch (e) {
    // fall through to the selection fallback
  }
  try {
    const range = document.createRange();
    range.selectNodeContents(holder);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    return document.execCommand("copy");
  } catch (e) {
    return false;
  }
}

function copyBlock(number, holder) {
  const live = h("p", { class: "hint copy-status", id: "copy-status", role: "status", "aria-live": "polite" });
  const btn = button(T.done.copy, { id: "copy-number", variant: "secondary" });
  btn.addEventListener("click", async () => {
    live.textContent = "";
    const ok = await copyText(number, holder);
    live.textContent = ok ? T.done.copied : T.done.copyFailed;
  });
  return h("div", { class: "copy" }, btn, live);
}

function summaryRow(key, value) {
  return h("div", { class: "summary-list__row" },
    h("dt", { class: "summary-list__key" }, key),
    h("dd", { class: "summary-list__value" }, value));
}

export async function doneView(ctx) {
  const id = ctx.params.id;
  const [claim, types] = await ctx.guard(Promise.all([api.claim(id), loadClaimTypes().catch(() => [])]));
  const type = findType(types, claim.type_code);
  const number = claimNumber(claim);
  const typeTitle = claim.type_title || (type && type.title) || claim.type_code || "";
  const plan = claim.plan || null;
  const numberEl = h("strong", { class: "claim-number", id: "claim-number" }, number);
  const statusEl = h("strong", { class: `tag tag--${claim.status}`, id: "claim-status" }, statusText(claim.status));
  const fresh = justConfirmed.get() === claim.claim_id && claim.status !== "draft" && claim.status !== "awaiting_documents";

  const nodes = [];
  let title;
  if (fresh) {
    title = T.done.panelTitle;
    nodes.push(h("div", { class: "panel" },
      h("h1", { class: "panel__title", tabindex: "-1" }, T.done.panelTitle),
      h("div", { class: "panel__body" }, T.done.numberLabel, h("br"), numberEl)));
  } else {
    title = T.done.heading(number);
    nodes.push(h("span", { class: "caption" }, typeTitle),
      h("h1", { class: "heading-l", tabindex: "-1" }, T.home.claimNumber(""), numberEl));
  }
  nodes.push(copyBlock(number, numberEl));
  nodes.push(h("p", { class: "body status-line" }, T.done.statusLabel, " ", statusEl));

  if (claim.status === "awaiting_documents") {
    nodes.push(notice(T.documents.awaitingNote),
      button(T.documents.toDocuments, { id: "to-documents", onclick: () => ctx.go(claimPath(id, "/documents")) }));
  }

  if (claim.status === "draft") {
    nodes.push(notice(T.done.draftNote));
    const next = planMatches(claim) && !claim.is_confirmed
      ? button(T.done.toConfirm, { id: "to-confirm", onclick: () => ctx.go(claimPath(id, "/confirm")) })
      : button(T.done.continueDraft, { id: "continue-draft", onclick: () => ctx.go(claimPath(id, "/edit")) });
    nodes.push(next);
  }

  nodes.push(h("dl", { class: "summary-list summary-list--plain" },
    summaryRow(T.done.typeLabel, typeTitle),
    summaryRow(T.done.createdLabel, formatDate(claim.created_at)),
    claim.updated_at ? summaryRow(T.done.updatedLabel, formatDate(claim.updated_at)) : null));

  // No plan summary here: it was written for the check before confirming («Проверьте… и подтвердите»).
  // Document upload does not exist on the site yet: say so instead of promising it.
  const uploadAvailable = Boolean(claim.upload_url) || claim.status === "awaiting_documents" || claim.status === "in_work";
  if (claim.status !== "draft") {
    // Steps about confirming are done by now (older plans still list one).
    const steps = planNextSteps(plan).filter((st) => !/^подтвердите(\s|$)/i.test(st.title.trim()));
    const list = h("ol", { class: "list list--number", id: "next-steps" });
    if (steps.length) {
      for (const st of steps) {
        const about = !uploadAvailable && /загрузите|загрузить/i.test(st.title) ? T.done.uploadStepHint : "";
        const text = [st.text, about].filter(Boolean).join(" ");
        list.append(h("li", null, st.title, text ? h("span", { class: "hint block" }, text) : null));
      }
    } else {
      for (const t of T.done.nextDefault) list.append(h("li", null, t));
    }
    nodes.push(h("h2", { class: "heading-m" }, T.done.nextHeading), list);
  }

  const docs = planDocuments(plan, type);
  if (docs.length) {
    nodes.push(h("h2", { class: "heading-m" }, T.done.docsHeading),
      uploadAvailable ? null : h("p", { class: "body", id: "upload-note" }, T.done.uploadLater),
      h("ul", { class: "list list--bullet", id: "documents" }, docs.map((d) => h("li", { class: "document-item" },
        d.title, " ", h("span", { class: "hint" }, `(${d.required ? T.done.docRequired : T.done.docOptional})`),
        d.hint ? h("span", { class: "hint block" }, d.hint) : null))));
  }

  const history = Array.isArray(claim.status_history) ? claim.status_history : [];
  if (history.length) {
    nodes.push(h("h2", { class: "heading-m" }, T.done.historyHeading),
      h("ul", { class: "list history", id: "status-history" }, history.map((x) =>
        h("li", null, h("span", { class: "history__date" }, formatDateTime(x.at)), " — ", statusText(x.status)))));
  }

  nodes.push(h("p", { class: "body back-to-start" }, h("a", { href: "#/", class: "link", id: "to-start" }, T.backToStart)));
  ctx.render("done", title, nodes);
}
