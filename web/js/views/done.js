// Claim page: the «Заявка принята» panel right after confirmation, and the status page later: status history,
// the confirmed claim with its receipt (what was shown and confirmed, the time, the SHA-256), the documents.

import { api } from "../api.js";
import { T, lang, statusText } from "../texts.js";
import { h, button, heading, notice } from "../dom.js";
import { claimNumber, formatDate, formatDateTime } from "../format.js";
import { findType, loadClaimTypes, planDocuments, planMatches, planNextSteps } from "../claim-model.js";
import { justConfirmed } from "../session.js";
import { claimPath } from "./wizard.js";
import { formatSize } from "./documents.js";

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

// The plan's texts come from the workflow in Russian: marked so on a page in another language.
const planLang = () => (lang === "ru" ? undefined : "ru");

// The receipt document (claim.receipt.document, canonical JSON), or null if absent or unreadable.
function receiptContent(claim) {
  const r = claim.receipt;
  if (!r || typeof r.document !== "string") return null;
  try {
    const doc = JSON.parse(r.document);
    return doc && typeof doc === "object" ? doc : null;
  } catch (e) {
    return null;
  }
}

// «Что Вы подтвердили»: every part of the receipt document as shown, so that anyone can rebuild the document from
// this page and check its SHA-256 (docs/api.md, "Confirmation receipt").
function receiptSection(claim, doc) {
  const r = claim.receipt;
  const W = T.claimPage;
  const fields = Array.isArray(doc.fields) ? doc.fields : [];
  const docs = Array.isArray(doc.documents) ? doc.documents : [];
  const download = h("a", { href: "#", class: "link", id: "receipt-download", download: `receipt-${claim.claim_id}.json` }, W.download);
  download.addEventListener("click", () => {
    // The exact bytes that were hashed.
    download.href = URL.createObjectURL(new Blob([r.document], { type: "application/json" }));
  });
  // The time and the checksum in view; the confirmed text itself folded away (it was written for checking before
  // confirming, and the page already says what happens next), one keypress to open.
  return h("section", { class: "receipt", id: "receipt", "aria-labelledby": "receipt-heading" },
    h("h2", { class: "heading-m", id: "receipt-heading" }, W.receiptHeading),
    h("p", { class: "body" }, W.receiptIntro),
    h("dl", { class: "summary-list summary-list--plain" },
      summaryRow(W.confirmedAt, h("time", { id: "receipt-time", datetime: r.confirmed_at }, formatDateTime(r.confirmed_at))),
      summaryRow(W.hashLabel, h("code", { id: "receipt-hash", class: "receipt__hash" }, r.sha256))),
    h("details", { class: "receipt__details", id: "receipt-details" },
      h("summary", { class: "receipt__summary link", id: "receipt-toggle" }, W.showContent),
      h("h3", { class: "heading-s", id: "receipt-title", lang: planLang() }, String(doc.title || "")),
      h("p", { class: "body pre-wrap", id: "receipt-summary", lang: planLang() }, String(doc.summary || "")),
      h("h4", { class: "heading-s" }, W.answers),
      h("dl", { class: "summary-list", id: "receipt-fields" }, fields.map((f) =>
        h("div", { class: "summary-list__row receipt-field", lang: planLang() },
          h("dt", { class: "summary-list__key receipt-field__label" }, String(f.label ?? "")),
          h("dd", { class: "summary-list__value receipt-field__value pre-wrap" }, String(f.value ?? ""))))),
      h("h4", { class: "heading-s" }, W.documents),
      h("ul", { class: "list list--bullet", id: "receipt-documents" }, docs.map((d) =>
        h("li", { class: "receipt-doc", dataset: { required: String(d.required === true) } },
          h("span", { class: "receipt-doc__title", lang: planLang() }, String(d.title ?? "")), " ",
          h("span", { class: "hint" }, `(${d.required ? W.required : W.optional})`),
          typeof d.hint === "string" ? h("span", { class: "hint block receipt-doc__hint", lang: planLang() }, d.hint) : null))),
      h("h4", { class: "heading-s" }, W.declaration),
      h("p", { class: "body receipt__declaration", id: "receipt-declaration", lang: String(doc.language || r.language || "ru") },
        String(doc.declaration || "")),
      h("dl", { class: "summary-list summary-list--plain" },
        summaryRow(W.claimIdLabel, h("span", { id: "receipt-claim-id", class: "receipt__hash" }, String(doc.claim_id || ""))),
        summaryRow(W.submissionLabel, h("span", { id: "receipt-submission-id", class: "receipt__hash" }, String(doc.submission_id || ""))))),
    h("p", { class: "hint" }, W.hashHint, " ", download));
}

// Uploaded documents (GET …/documents, null when it could not be read), by slot in the plan's order: the slot's
// title (the plan's text), then each file: its name (a download link), size and upload time.
function uploadedDocuments(listing) {
  const slots = listing && Array.isArray(listing.slots) ? listing.slots : [];
  const filled = slots.filter((slot) => Array.isArray(slot.documents) && slot.documents.length);
  if (!filled.length) return [];
  return [
    h("h2", { class: "heading-m", id: "uploaded-heading" }, T.claimPage.uploadedHeading),
    h("ul", { class: "list list--bullet", id: "uploaded-documents" }, filled.map((slot) =>
      h("li", { class: "uploaded-slot", dataset: { slot: String(slot.code || "") } },
        h("span", { class: "uploaded-slot__title", lang: planLang() }, String(slot.title || slot.code || "")),
        h("ul", { class: "list uploaded-files" }, slot.documents.map((d) =>
          h("li", { class: "uploaded-file", dataset: { documentId: String(d.id || "") } },
            h("a", { class: "link uploaded-file__name", href: String(d.download_url || ""), download: "" }, String(d.file_name || "")),
            h("span", { class: "hint uploaded-file__meta" }, ` (${formatSize(Number(d.size) || 0)})`,
              d.uploaded_at ? ` — ${T.claimPage.uploadedAt(formatDateTime(d.uploaded_at))}` : ""))))))),
  ];
}

function summaryRow(key, value) {
  return h("div", { class: "summary-list__row" },
    h("dt", { class: "summary-list__key" }, key),
    h("dd", { class: "summary-list__value" }, value));
}

export async function doneView(ctx) {
  const id = ctx.params.id;
  const [claim, types, listing] = await ctx.guard(Promise.all([
    api.claim(id), loadClaimTypes().catch(() => []), api.documents(id).catch(() => null)]));
  const type = findType(types, claim.type_code);
  const number = claimNumber(claim);
  const typeTitle = (type && type.title) || claim.type_title || claim.type_code || "";
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
  // In work: the documents were sent (or the plan asked for none), so nothing on the page asks for them any more.
  const documentsSent = claim.status === "in_work";
  if (claim.status !== "draft") {
    // Steps about confirming are done by now (older plans still list one); so are the upload steps once the
    // documents were sent.
    const steps = planNextSteps(plan).filter((st) => !/^подтвердите(\s|$)/i.test(st.title.trim())
      && !(documentsSent && /загрузите|загрузить/i.test(st.title)));
    const list = h("ol", { class: "list list--number", id: "next-steps" });
    if (steps.length) {
      for (const st of steps) {
        const about = !uploadAvailable && /загрузите|загрузить/i.test(st.title) ? T.done.uploadStepHint : "";
        const text = [st.text, about].filter(Boolean).join(" ");
        list.append(h("li", null, st.title, text ? h("span", { class: "hint block" }, text) : null));
      }
    } else {
      for (const t of documentsSent ? T.done.nextInWork : T.done.nextDefault) list.append(h("li", null, t));
    }
    nodes.push(h("h2", { class: "heading-m" }, T.done.nextHeading), list);
  }

  nodes.push(...uploadedDocuments(listing));

  // The documents to get ready: only while they are still to be sent (the uploaded ones are listed above).
  const docs = documentsSent ? [] : planDocuments(plan, type);
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
        h("li", { dataset: { status: String(x.status || "") } },
          h("time", { class: "history__date", datetime: x.at }, formatDateTime(x.at)), " — ", statusText(x.status)))));
  }

  const receipt = receiptContent(claim);
  if (receipt) nodes.push(receiptSection(claim, receipt));

  nodes.push(h("p", { class: "body back-to-start" }, h("a", { href: "#/", class: "link", id: "to-start" }, T.backToStart)));
  ctx.render("done", title, nodes);
}
