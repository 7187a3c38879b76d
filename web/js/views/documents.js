// Documents step: one slot per document the confirmed plan lists. Several files per slot, chosen, dropped or taken
// with the phone camera; each upload shows its own progress bar, can be retried when it fails and deleted once
// stored. «Отправить документы» is enabled when every required slot holds a file. Everything uploaded is on the
// server at once, so coming back (another tab, another device) shows the same step with what is already there.

import { request, ApiError } from "../api.js";
import { T, lang } from "../texts.js";
import { h, clear, heading, caption, button, linkButton, notice, showErrorSummary } from "../dom.js";
import { claimNumber } from "../format.js";
import { justConfirmed } from "../session.js";
import { claimPath } from "./wizard.js";

const enc = encodeURIComponent;
const ACCEPT = "application/pdf,image/jpeg,image/png,image/heic,image/heif,image/webp,.pdf,.jpg,.jpeg,.png,.heic,.heif,.webp";

// The slots' titles and hints are the plan's own texts, written in Russian: marked so on a page in another language.
const planLang = () => (lang === "ru" ? undefined : "ru");

// A refusal in the page's language: the catalog words the codes it knows (the server's messages are Russian).
export function uploadErrorMessage(code, err, status) {
  if (code === "document_too_large") {
    const max = Number(err && err.max_bytes);
    return Number.isFinite(max) && max > 0 ? T.documents.tooLargeLocal(formatSize(max)) : T.documents.tooLarge;
  }
  const own = T.apiErrors && T.apiErrors[code];
  if (own) return own;
  if (err && typeof err.message === "string" && err.message) return err.message;
  return status === 413 ? T.documents.tooLarge : T.errors.generic;
}

const documentsApi = {
  list: (id) => request("GET", `/api/v1/claims/${enc(id)}/documents`),
  remove: (id, docId) => request("DELETE", `/api/v1/claims/${enc(id)}/documents/${enc(docId)}`),
  submit: (id) => request("POST", `/api/v1/claims/${enc(id)}/documents/submit`),
};

// POST multipart/form-data with progress (fetch cannot report upload progress). Resolves with the stored
// document; rejects with an ApiError like request() does.
function uploadFile(claimId, slot, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1/claims/${enc(claimId)}/documents`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Accept-Language", lang);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); };
    xhr.onerror = () => reject(new ApiError({ status: 0, code: "network_error", message: T.errors.network }));
    xhr.onabort = xhr.onerror;
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      if (xhr.status >= 200 && xhr.status < 300 && data) return resolve(data);
      const err = data && data.error ? data.error : {};
      const code = err.code || (xhr.status === 413 ? "document_too_large" : "http_error");
      reject(new ApiError({
        status: xhr.status,
        code,
        message: uploadErrorMessage(code, err, xhr.status),
        field: err.field || null,
        details: err,
      }));
    };
    const form = new FormData();
    form.append("field_name", slot);
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

export function formatSize(bytes) {
  const units = T.documents.units;
  if (bytes >= 1024 * 1024) return units.mb((bytes / (1024 * 1024)).toFixed(1).replace(".", units.decimal));
  if (bytes >= 1024) return units.kb(Math.max(1, Math.round(bytes / 1024)));
  return units.b(bytes);
}

export async function documentsView(ctx) {
  const id = ctx.params.id;
  let data = await ctx.guard(documentsApi.list(id));
  if (!data.accepts_uploads) return ctx.go(claimPath(id), { replace: true });

  const errors = h("div", { class: "error-slot" });
  // Announcements: uploads starting, done and deleted politely; refusals and failures at once.
  const live = h("p", { class: "visually-hidden", id: "documents-live", role: "status", "aria-live": "polite" });
  const alert = h("p", { class: "visually-hidden", id: "documents-alert", role: "alert", "aria-live": "assertive" });
  const slots = new Map(); // code -> {files: <ul>, uploads: <ul>, tag, input}
  let active = 0; // uploads in flight
  let sequence = 0;

  const sendButton = button(T.documents.send, { id: "send-documents" });
  const sendHint = h("p", { class: "hint", id: "send-hint" });

  const refreshSend = () => {
    const ready = data.can_submit && active === 0;
    sendButton.disabled = !ready;
    sendButton.setAttribute("aria-describedby", "send-hint");
    sendHint.textContent = active > 0 ? T.documents.waitUploads
      : data.can_submit ? T.documents.readyToSend : T.documents.missingHint(data.missing.length);
  };

  const renderFiles = () => {
    for (const slot of data.slots) {
      const parts = slots.get(slot.code);
      if (!parts) continue;
      clear(parts.files);
      for (const doc of slot.documents) {
        const del = linkButton(T.documents.remove, { class: "link-button doc-file__remove", "aria-label": T.documents.removeLabel(doc.file_name) });
        del.addEventListener("click", async () => {
          del.disabled = true;
          try {
            await documentsApi.remove(id, doc.id);
            live.textContent = T.documents.removed(doc.file_name);
            await reload();
            // The button that had focus is gone with its row: on to the slot's «choose files».
            if (ctx.alive()) parts.input.focus();
          } catch (e) {
            del.disabled = false;
            if (e.status === 401) return ctx.fail(e);
            showErrorSummary(errors, [{ message: e.message }]);
          }
        });
        // «Скачать» on every row: the file's name describes it. Both actions are full-size touch targets.
        const nameId = `doc-name-${doc.id}`;
        parts.files.append(h("li", { class: "doc-file", dataset: { documentId: doc.id } },
          h("span", { class: "doc-file__name", id: nameId }, doc.file_name),
          h("span", { class: "hint doc-file__size" }, ` (${formatSize(doc.size)})`),
          h("span", { class: "doc-file__actions" },
            h("a", { class: "link doc-file__download", href: doc.download_url, download: "", "aria-describedby": nameId }, T.documents.download),
            del)));
      }
      const filled = slot.documents.length > 0;
      parts.tag.textContent = filled ? T.documents.uploaded : slot.required ? T.documents.required : T.documents.optional;
      parts.tag.className = `tag ${filled ? "tag--completed" : slot.required ? "tag--draft" : "tag--optional"}`;
    }
    refreshSend();
  };

  const reload = async () => {
    data = await documentsApi.list(id);
    if (!ctx.alive()) return;
    renderFiles();
  };

  // One upload: a row with the name, a progress bar and a status line; on failure, «Повторить» and «Убрать».
  const startUpload = (slot, file) => {
    const parts = slots.get(slot.code);
    const n = ++sequence;
    const progress = h("progress", { class: "upload__progress", max: "100", value: "0", id: `upload-progress-${n}`,
      "aria-label": T.documents.progressLabel(file.name) });
    const state = h("span", { class: "upload__state hint", id: `upload-state-${n}` }, T.documents.uploading);
    const actions = h("span", { class: "upload__actions" });
    const row = h("li", { class: "upload", dataset: { upload: String(n), slot: slot.code } },
      h("span", { class: "upload__name", id: `upload-name-${n}` }, file.name), progress, state, actions);
    parts.uploads.append(row);

    const run = async () => {
      clear(actions);
      row.classList.remove("upload--failed");
      progress.value = 0;
      state.textContent = T.documents.uploading;
      if (file.size > data.limits.max_bytes) {
        return failed(new ApiError({ status: 413, code: "document_too_large", message: T.documents.tooLargeLocal(formatSize(data.limits.max_bytes)) }), false);
      }
      active += 1;
      refreshSend();
      live.textContent = T.documents.progressLabel(file.name);
      try {
        await uploadFile(id, slot.code, file, (loaded, total) => {
          progress.value = Math.floor((loaded / total) * 100);
          row.dataset.progress = String(progress.value);
        });
        active -= 1;
        if (!ctx.alive()) return;
        progress.value = 100;
        live.textContent = T.documents.done(file.name);
        row.remove();
        await reload();
      } catch (e) {
        active -= 1;
        if (!ctx.alive()) return;
        if (e.status === 401) return ctx.fail(e);
        failed(e, e.status === 0 || e.status >= 500 || e.code === "incomplete_body");
        refreshSend();
      }
    };
    const failed = (e, retryable) => {
      row.classList.add("upload--failed");
      row.dataset.error = e.code;
      state.textContent = e.message;
      state.className = "upload__state error-message";
      alert.textContent = `${file.name}: ${e.message}`;
      clear(actions);
      // Focus was on «Повторить» or «Убрать», which go away: on to the slot's «choose files».
      const retry = () => { state.className = "upload__state hint"; alert.textContent = ""; parts.input.focus(); run(); };
      const dismiss = () => { row.remove(); alert.textContent = ""; parts.input.focus(); };
      const named = { "aria-describedby": `upload-name-${n} upload-state-${n}` };
      if (retryable) actions.append(linkButton(T.documents.retry, { class: "link-button upload__retry", onclick: retry, ...named }));
      actions.append(linkButton(T.documents.dismiss, { class: "link-button upload__dismiss", onclick: dismiss, ...named }));
    };
    run();
  };

  const slotSection = (slot) => {
    const inputId = `file-${slot.code}`;
    const cameraId = `camera-${slot.code}`;
    const files = h("ul", { class: "doc-files", id: `files-${slot.code}` });
    // Progress and refusals are announced through the page's live regions, once (not by this list as well).
    const uploads = h("ul", { class: "uploads", id: `uploads-${slot.code}` });
    const tag = h("strong", { class: "tag" });
    const pick = (list) => { for (const f of list) startUpload(slot, f); };
    // The inputs are visually hidden but focusable, each right before the label that looks like its button (the
    // label shows the focus: see .doc-slot__input:focus-visible + .doc-slot__button). Both name the slot: its
    // title and hint describe them.
    const describedBy = [`title-${slot.code}`, slot.hint ? `hint-${slot.code}` : null].filter(Boolean).join(" ");
    const input = h("input", { type: "file", id: inputId, class: "doc-slot__input", multiple: true, accept: ACCEPT,
      "aria-describedby": describedBy });
    input.addEventListener("change", () => { pick([...input.files]); input.value = ""; });
    const camera = h("input", { type: "file", id: cameraId, class: "doc-slot__input", accept: "image/*", capture: "environment",
      "aria-describedby": describedBy });
    camera.addEventListener("change", () => { pick([...camera.files]); camera.value = ""; });
    slots.set(slot.code, { files, uploads, tag, input });
    const zone = h("div", { class: "doc-slot__drop", id: `drop-${slot.code}` },
      h("p", { class: "body" }, T.documents.dropHere),
      input,
      h("label", { for: inputId, class: "button button--secondary doc-slot__button doc-slot__choose" }, T.documents.choose),
      camera,
      h("label", { for: cameraId, class: "button button--secondary doc-slot__button doc-slot__camera" }, T.documents.camera));
    zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("doc-slot__drop--over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("doc-slot__drop--over"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("doc-slot__drop--over");
      if (e.dataTransfer && e.dataTransfer.files) pick([...e.dataTransfer.files]);
    });
    return h("section", { class: "doc-slot", id: `slot-${slot.code}`, "aria-labelledby": `title-${slot.code}` },
      h("h2", { class: "heading-m doc-slot__title", id: `title-${slot.code}` },
        h("span", { lang: planLang() }, slot.title), " ", tag),
      slot.hint ? h("p", { class: "hint", id: `hint-${slot.code}`, lang: planLang() }, slot.hint) : null,
      files, uploads, zone);
  };

  sendButton.addEventListener("click", async () => {
    if (sendButton.disabled) return;
    sendButton.disabled = true;
    showErrorSummary(errors, []);
    try {
      await documentsApi.submit(id);
      justConfirmed.set(id);
      ctx.go(claimPath(id), { replace: true });
    } catch (e) {
      if (!ctx.alive()) return;
      if (e.status === 401) return ctx.fail(e);
      const missing = Array.isArray(e.details && e.details.missing) ? e.details.missing : [];
      showErrorSummary(errors, missing.length
        ? missing.map((code) => ({ id: `file-${code}`, message: T.documents.missingSlot((data.slots.find((s) => s.code === code) || { title: code }).title) }))
        : [{ message: e.message }]);
      await reload().catch(() => {});
    }
  });

  const number = claimNumber({ claim_id: id });
  ctx.render("documents", T.documents.title, [
    errors,
    caption(T.documents.caption(number)),
    heading(T.documents.title),
    h("p", { class: "body" }, T.documents.intro),
    h("p", { class: "hint", id: "documents-limits" }, T.documents.limits(formatSize(data.limits.max_bytes), data.limits.max_files)),
    live,
    alert,
    data.slots.map(slotSection),
    h("div", { class: "doc-send" }, sendHint, sendButton),
    notice(T.documents.later, "info"),
    h("p", { class: "body back-to-start" }, h("a", { href: "#" + claimPath(id), class: "link", id: "to-claim" }, T.documents.toClaim)),
  ]);
  renderFiles();
}
