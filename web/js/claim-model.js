// Claim wizard model: the catalog, pages of questions, answer normalisation and validation,
// the in-memory working copy of a claim and its debounced autosave.

import { api } from "./api.js";
import { T } from "./texts.js";
import {
  formatDayAnswer, formatMoney, formatPhone, moneyForInput, normalizePhone, parseDayAnswer, parseMoney,
} from "./format.js";

// ---------- catalog ----------

let typesPromise = null;

export function loadClaimTypes() {
  if (!typesPromise) {
    typesPromise = api.claimTypes().then((r) => (Array.isArray(r.claim_types) ? r.claim_types : []));
    typesPromise.catch(() => { typesPromise = null; });
  }
  return typesPromise;
}

export function findType(types, code) {
  return types.find((t) => t.code === code) || null;
}

// ---------- pages ----------

const LONG_LABEL = 70;

// A few short questions per page; a long question (textarea, long label) gets a page of its own.
export function paginate(questions) {
  const pages = [];
  let cur = [];
  for (const q of questions || []) {
    const long = q.kind === "textarea" || String(q.label || "").length > LONG_LABEL;
    if (long) {
      if (cur.length) pages.push(cur);
      pages.push([q]);
      cur = [];
      continue;
    }
    cur.push(q);
    if (cur.length === 3) {
      pages.push(cur);
      cur = [];
    }
  }
  if (cur.length) pages.push(cur);
  return pages;
}

export function pageIndexOf(pages, questionId) {
  return pages.findIndex((p) => p.some((q) => q.id === questionId));
}

function isEmpty(v) {
  return v === undefined || v === null || String(v).trim() === "";
}

// Index of the first page with an unanswered required question, or -1 when all are answered.
export function firstIncompletePage(pages, answers) {
  return pages.findIndex((p) => p.some((q) => q.required && isEmpty(answers[q.id])));
}

export function answeredCount(answers) {
  return Object.values(answers || {}).filter((v) => !isEmpty(v)).length;
}

// ---------- answers ----------

export function questionOptions(q) {
  if (q.kind === "yesno") return [{ value: "yes", label: T.wizard.yes }, { value: "no", label: T.wizard.no }];
  return (q.options || []).map((o) => ({ value: String(o.value), label: String(o.label ?? o.value) }));
}

// Value typed in the control -> answer string stored and sent to the server.
export function normalizeAnswer(q, raw) {
  const v = String(raw ?? "");
  switch (q.kind) {
    case "date": return parseDayAnswer(v) || v.trim();
    case "number": return v.replace(/[\s\u00A0]/g, "");
    case "money": return parseMoney(v) || v.trim();
    case "phone": return normalizePhone(v) || v.trim();
    case "textarea": return v.replace(/\s+$/, "");
    default: return v.trim();
  }
}

// Stored answer -> value shown in the control.
export function answerForInput(q, value) {
  if (value === undefined || value === null) return "";
  switch (q.kind) {
    case "money": return moneyForInput(value);
    case "phone": return normalizePhone(value) ? formatPhone(value) : value;
    default: return String(value);
  }
}

// Stored answer -> text for the check page.
export function answerForDisplay(q, value) {
  if (isEmpty(value)) return "";
  switch (q.kind) {
    case "date": return formatDayAnswer(value);
    case "money": return formatMoney(value);
    case "phone": return formatPhone(value);
    case "select":
    case "yesno": {
      const o = questionOptions(q).find((x) => x.value === String(value));
      return o ? o.label : String(value);
    }
    default: return String(value);
  }
}

// Today's calendar day as "YYYY-MM-DD". The server's reference is Moscow time; take the later of the device's
// and Moscow's day so the page never refuses a date the server would accept.
export function todayISO(now = new Date()) {
  const local = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
  const moscow = new Date(now.getTime() + 3 * 3600 * 1000).toISOString().slice(0, 10);
  return local > moscow ? local : moscow;
}

// Returns an error message for one answer, or null. `related` gives the other answers and questions, for the
// date rules that compare two answers (`not_before`).
export function validateAnswer(q, value, related = {}) {
  const label = q.label || q.id;
  const choice = q.kind === "select" || q.kind === "yesno";
  if (isEmpty(value)) {
    if (!q.required) return null;
    return choice ? T.wizard.requiredChoice(label) : T.wizard.required(label);
  }
  const v = String(value);
  switch (q.kind) {
    case "date": {
      const day = parseDayAnswer(v);
      if (!day) return T.wizard.badDate(label);
      if (!q.allows_future && day > todayISO()) return T.wizard.futureDate(label);
      if (q.not_before && related.answers) {
        const other = parseDayAnswer(related.answers[q.not_before] || "");
        const oq = related.question ? related.question(q.not_before) : null;
        if (other && day < other) return T.wizard.beforeDate(label, (oq && oq.label) || q.not_before, formatDayAnswer(other));
      }
      break;
    }
    case "number": {
      if (!/^-?\d+$/.test(v)) return T.wizard.badNumber(label);
      const n = Number(v);
      if (q.min !== undefined && q.min !== null && n < q.min) return T.wizard.tooSmall(label, q.min);
      if (q.max !== undefined && q.max !== null && n > q.max) return T.wizard.tooBig(label, q.max);
      break;
    }
    case "money": {
      if (!parseMoney(v)) return T.wizard.badMoney(label);
      const n = Number(parseMoney(v));
      if (q.min !== undefined && q.min !== null && n < q.min) return T.wizard.tooSmall(label, q.min);
      if (q.max !== undefined && q.max !== null && n > q.max) return T.wizard.tooBig(label, q.max);
      break;
    }
    case "phone":
      if (!normalizePhone(v)) return T.wizard.badPhone(label);
      break;
    case "select":
    case "yesno":
      if (!questionOptions(q).some((o) => o.value === v)) return T.wizard.requiredChoice(label);
      break;
    default:
      break;
  }
  if (q.max_length && v.length > q.max_length) return T.wizard.tooLong(label, q.max_length);
  return null;
}

// "answers.trip_start" -> "trip_start"
export function questionIdFromField(field) {
  return String(field || "").replace(/^answers\./, "");
}

// ---------- working copy + autosave ----------

const DEBOUNCE_MS = 800;
const RETRY_MS = [2000, 5000, 10000, 30000];
const MAX_CONFLICT_ROUNDS = 3;

// Other tabs of this browser learn at once that a draft was saved (other devices: on focus, see below).
const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("clpr.drafts") : null;

function sameAnswer(a, b) {
  return (a === undefined || a === null ? "" : String(a)) === (b === undefined || b === null ? "" : String(b));
}

class AutoSaver {
  constructor(session) {
    this.s = session;
    this.status = "idle"; // idle | saving | saved | failed | rejected
    this.dirty = false;
    this.timer = null;
    this.inflight = null;
    this.failures = 0;
    this.listeners = new Set();
  }

  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(event, data) {
    for (const fn of [...this.listeners]) fn(event, data);
  }

  setStatus(status) {
    this.status = status;
    this.emit("status", status);
  }

  get busy() {
    return this.dirty || Boolean(this.inflight);
  }

  // Called on every change: save ~800 ms after typing stops.
  touch() {
    this.dirty = true;
    this.schedule(DEBOUNCE_MS);
  }

  schedule(ms) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), ms);
  }

  // Save now (page change, submit). Resolves when nothing is pending; never rejects.
  async flush() {
    clearTimeout(this.timer);
    if (this.inflight) {
      await this.inflight;
      if (!this.dirty) return;
    }
    if (!this.dirty) return;
    this.inflight = this.run().finally(() => { this.inflight = null; });
    await this.inflight;
  }

  async run() {
    const s = this.s;
    let conflicts = 0;
    while (this.dirty) {
      this.dirty = false;
      this.setStatus("saving");
      const sent = { ...s.answers };
      try {
        const claim = await api.saveDraft(s.id, sent, s.revision);
        s.saved(claim, sent);
        this.failures = 0;
        this.savedAt = new Date().toISOString();
        if (channel) channel.postMessage({ claim_id: s.id, revision: s.revision });
        if (!this.dirty) this.setStatus("saved");
      } catch (e) {
        if (e.code === "revision_conflict" && conflicts < MAX_CONFLICT_ROUNDS) {
          // Someone saved in between (another tab or device). Take the server's claim, put the person's
          // unsaved edits on top and save that with the server's revision.
          conflicts += 1;
          let server = e.details && e.details.claim;
          if (!server) {
            try {
              server = await api.claim(s.id);
            } catch (e2) {
              server = null;
            }
          }
          if (server) {
            if (server.status && server.status !== "draft") {
              s.adopt(server);
              this.dirty = false;
              this.setStatus("rejected");
              this.emit("notDraft");
              return;
            }
            this.dirty = s.rebase(server) || this.dirty;
            this.emit("conflict");
            if (!this.dirty) this.setStatus("saved");
            continue;
          }
          this.dirty = true;
          this.setStatus("failed");
          this.schedule(RETRY_MS[0]);
        } else if (e.code === "not_a_draft") {
          this.dirty = false;
          this.setStatus("rejected");
          this.emit("notDraft");
        } else if (e.status === 401) {
          this.dirty = true;
          this.setStatus("failed");
          this.emit("unauthenticated", e);
        } else if (e.status === 0 || e.status === 408 || e.status === 429 || e.status >= 500 || e.code === "revision_conflict") {
          this.dirty = true;
          this.setStatus("failed");
          const wait = e.retryAfter ? e.retryAfter * 1000 : RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)];
          this.failures += 1;
          this.schedule(wait);
        } else {
          // 400/413/422…: retrying the same body will not help; keep the answers locally.
          this.setStatus("rejected");
          this.emit("rejected", e);
        }
        return;
      }
    }
  }

  stop() {
    clearTimeout(this.timer);
  }
}

export class ClaimSession {
  constructor(claim, type) {
    this.id = claim.claim_id;
    this.setType(type);
    this.fieldErrors = {}; // question id -> message (from the server or the check page)
    this.notice = null; // one-shot message shown on the next page render
    this.unsaved = new Set(); // question ids edited since the last successful save
    this.saver = new AutoSaver(this);
    this.adopt(claim);
  }

  setType(type) {
    this.type = type;
    this.pages = paginate(type ? type.questions : []);
    this.questions = this.pages.flat();
  }

  // Takes the server's claim as it is (local edits, if any, are dropped).
  adopt(claim) {
    this.claim = claim;
    this.revision = claim.revision;
    this.answers = { ...(claim.answers || {}) };
    this.unsaved.clear();
  }

  // A save succeeded with `sent`: the server's answers, plus edits typed while the request was on its way.
  saved(claim, sent) {
    for (const id of [...this.unsaved]) {
      if (sameAnswer(sent[id], this.answers[id])) this.unsaved.delete(id);
    }
    const local = this.answers;
    this.claim = claim;
    if (typeof claim.revision === "number") this.revision = claim.revision;
    if (claim.answers) {
      this.answers = { ...claim.answers };
      for (const id of this.unsaved) this.putLocal(id, local[id]);
    }
  }

  // The server's claim with the person's unsaved edits on top. Returns true when that differs from what the
  // server stores (so it must be saved again).
  rebase(claim) {
    const local = this.answers;
    this.claim = claim;
    this.revision = claim.revision;
    this.answers = { ...(claim.answers || {}) };
    let differs = false;
    for (const id of [...this.unsaved]) {
      if (sameAnswer(this.answers[id], local[id])) {
        this.unsaved.delete(id);
        continue;
      }
      this.putLocal(id, local[id]);
      differs = true;
    }
    return differs;
  }

  putLocal(id, value) {
    if (value === undefined || value === null || value === "") delete this.answers[id];
    else this.answers[id] = value;
  }

  // Reads the claim again (another tab or device may have saved it). Emits "refreshed" when it changed.
  async refresh() {
    if (this.saver.busy) return;
    let claim;
    try {
      claim = await api.claim(this.id);
    } catch (e) {
      return;
    }
    if (this.saver.busy) return; // the person typed meanwhile: the next save reconciles
    if (claim.status && claim.status !== "draft") {
      this.adopt(claim);
      this.saver.emit("notDraft");
      return;
    }
    if (claim.revision === this.revision) return;
    this.adopt(claim);
    this.saver.emit("refreshed");
  }

  question(id) {
    return this.questions.find((q) => q.id === id) || null;
  }

  setAnswer(q, raw) {
    const v = normalizeAnswer(q, raw);
    if (sameAnswer(v, this.answers[q.id])) return;
    if (v === "") delete this.answers[q.id];
    else this.answers[q.id] = v;
    this.unsaved.add(q.id);
    delete this.fieldErrors[q.id];
    this.saver.touch();
  }

  // Client-side validation of the given questions: [{q, message}]
  validate(questions = this.questions) {
    const out = [];
    const related = { answers: this.answers, question: (id) => this.question(id) };
    for (const q of questions) {
      const m = validateAnswer(q, this.answers[q.id], related);
      if (m) out.push({ q, message: m });
    }
    return out;
  }

  // 422 validation_failed -> fieldErrors; returns [{q|null, message}] in question order.
  applyServerErrors(err) {
    const out = [];
    const list = err.fields && err.fields.length ? err.fields : err.field ? [{ field: err.field, message: err.message }] : [];
    for (const f of list) {
      const q = this.question(questionIdFromField(f.field));
      if (q) this.fieldErrors[q.id] = f.message || err.message;
      out.push({ q, message: f.message || err.message });
    }
    if (!out.length) out.push({ q: null, message: err.message });
    const order = (x) => (x.q ? this.questions.indexOf(x.q) : 1e9);
    return out.sort((a, b) => order(a) - order(b));
  }
}

const sessions = new Map();

// A draft shown in another tab was saved: read it again here.
if (channel) {
  channel.addEventListener("message", (ev) => {
    const d = ev.data || {};
    const s = sessions.get(d.claim_id);
    if (s && d.revision !== s.revision) s.refresh();
  });
}

// Coming back to the tab (another device may have saved meanwhile): read the draft on screen again.
function refreshVisible() {
  for (const s of sessions.values()) if (s.saver.listeners.size) s.refresh();
}
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") refreshVisible();
});
window.addEventListener("focus", refreshVisible);

// Opens a claim's working copy. Reuses the cached copy while the person moves inside the same
// claim's wizard (or has unsaved changes); otherwise reloads from the server.
export async function openClaim(id, { reuse = false } = {}) {
  const cached = sessions.get(id);
  if (cached && (reuse || cached.saver.busy)) return cached;
  const [claim, types] = await Promise.all([api.claim(id), loadClaimTypes()]);
  const type = findType(types, claim.type_code) || { code: claim.type_code, title: claim.type_title, questions: [], documents: [] };
  if (cached) {
    cached.adopt(claim);
    cached.setType(type);
    return cached;
  }
  const s = new ClaimSession(claim, type);
  sessions.set(id, s);
  return s;
}

// Like openClaim, but always with the server's current claim: unsaved answers are saved first.
export async function openClaimFresh(id) {
  const s = await openClaim(id);
  if (s.saver.busy) {
    await s.saver.flush();
    try {
      s.adopt(await api.claim(id));
    } catch (e) {
      if (e.status === 401) throw e;
    }
  }
  return s;
}

export function rememberClaim(claim, type) {
  const s = new ClaimSession(claim, type);
  sessions.set(claim.claim_id, s);
  return s;
}

export function forgetClaims() {
  for (const s of sessions.values()) s.saver.stop();
  sessions.clear();
}

// ---------- plan ----------

// True when the claim's stored plan may be shown and confirmed: it belongs to the current submission and the
// answers did not change since (the server's `plan_is_current`).
export function planMatches(claim) {
  return Boolean(claim && claim.plan && claim.submission_id && claim.plan_is_current === true);
}

// True when the claim was submitted and its answers changed since: the old plan no longer applies and the
// person has to send the claim again from the check page.
export function submissionOutdated(claim) {
  if (!claim || !claim.submission_id || claim.is_confirmed) return false;
  return typeof claim.submitted_revision === "number" && typeof claim.revision === "number"
    && claim.submitted_revision !== claim.revision;
}

function asText(x) {
  if (x === null || x === undefined) return "";
  if (typeof x === "string" || typeof x === "number") return String(x);
  return String(x.title || x.text || x.label || x.description || "");
}

// next_steps: ["…"] or [{title, description|text}] -> [{title, text}]
export function planNextSteps(plan) {
  const list = plan && Array.isArray(plan.next_steps) ? plan.next_steps : [];
  return list.map((s) => (typeof s === "object" && s
    ? { title: asText(s.title || s.text || s.label), text: s.title ? asText(s.description || s.text || "") : "" }
    : { title: asText(s), text: "" })).filter((s) => s.title);
}

// required documents from the plan (several spellings tolerated), else the type's catalog.
export function planDocuments(plan, type) {
  const src = (plan && (plan.required_documents || plan.documents)) || (type && type.documents) || [];
  return (Array.isArray(src) ? src : []).map((d) => (typeof d === "object" && d
    ? { title: asText(d.title || d.name || d.code), hint: asText(d.hint || d.description || ""), required: d.required !== false }
    : { title: asText(d), hint: "", required: true })).filter((d) => d.title);
}

export function planSummary(plan) {
  if (!plan) return "";
  return typeof plan.summary === "string" ? plan.summary : asText(plan.summary);
}
