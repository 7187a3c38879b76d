// The claim wizard: question pages, the check-answers page, and resuming a draft.

import { api } from "../api.js";
import { T } from "../texts.js";
import { h, backLink, caption, heading, notice, setErrorTitle, showErrorSummary, errorSummary, visuallyHidden } from "../dom.js";
import { radiosField, selectField, textField } from "../fields.js";
import {
  answerForDisplay, answerForInput, firstIncompletePage, normalizeAnswer, openClaim, planMatches, questionOptions,
  todayISO,
} from "../claim-model.js";
import { formatTime, parseDayAnswer } from "../format.js";

function sameValue(a, b) {
  return String(a ?? "") === String(b ?? "");
}

export function claimPath(id, rest = "") {
  return `/claims/${encodeURIComponent(id)}${rest}`;
}

// Loads the working copy; sends non-drafts to their status page. Returns null when redirected.
async function loadDraft(ctx) {
  const id = ctx.params.id;
  const sameClaim = Boolean(ctx.prev && ctx.prev.params && ctx.prev.params.id === id);
  const s = await ctx.guard(openClaim(id, { reuse: sameClaim }));
  if (s.claim.status !== "draft") {
    ctx.go(claimPath(id), { replace: true, flash: { text: T.wizard.notDraft } });
    return null;
  }
  return s;
}

// «Сохранено» / «Сохраняем…» / «Не удалось сохранить — повторим», plus autosave events.
// onChanged(text): the draft was changed elsewhere and the working copy now differs (default: render again).
function saveStatus(ctx, s, onChanged = null) {
  const el = h("p", { id: "save-status", class: "save-status", role: "status", "aria-live": "polite" });
  const texts = { saving: T.wizard.saving, saved: T.wizard.saved, failed: T.wizard.saveFailed, rejected: T.wizard.saveRejected };
  const show = (st) => {
    el.textContent = st === "saved" && s.saver.savedAt ? T.wizard.savedAt(formatTime(s.saver.savedAt)) : texts[st] || "";
    el.dataset.state = st;
  };
  show(s.saver.status);
  const off = s.saver.on((event, data) => {
    if (event === "status") show(data);
    else if (event === "conflict" || event === "refreshed") {
      const text = event === "conflict" ? T.wizard.conflict : T.wizard.refreshed;
      if (onChanged) onChanged(text);
      else {
        s.notice = text;
        ctx.reload();
      }
    } else if (event === "notDraft") {
      ctx.go(claimPath(s.id), { replace: true, flash: { text: T.wizard.notDraft } });
    } else if (event === "unauthenticated") {
      ctx.fail(data);
    }
  });
  ctx.onCleanup(off);
  return el;
}

// Remembers on the server which page the person is on, so that another device resumes there. Best effort: a
// failure only means resuming falls back to the first unanswered page.
function rememberStep(s, step) {
  if (s.claim.wizard_step === step) return;
  s.claim.wizard_step = step;
  api.saveStep(s.id, step).catch(() => { s.claim.wizard_step = null; });
}

function takeNotice(s) {
  const text = s.notice;
  s.notice = null;
  return text ? notice(text, "info", { id: "claim-notice" }) : null;
}

const squash = (t) => String(t || "").replace(/[\s\u00A0.]/g, "").toLowerCase();

// Whether the browser has a date control (else <input type="date"> is a plain text field, typed as 03.12.2026).
const nativeDate = (() => {
  const probe = document.createElement("input");
  probe.setAttribute("type", "date");
  return probe.type === "date";
})();

// The catalog's hint and our own format example, as separate sentences (one per line); never the same twice.
function hintFor(q) {
  let extra = {
    date: nativeDate ? T.wizard.dateHint : T.wizard.dateTextHint,
    money: T.wizard.moneyHint,
    phone: T.wizard.phoneHint,
  }[q.kind];
  const own = q.hint ? String(q.hint).trim() : "";
  if (own && extra && squash(own).includes(squash(extra))) extra = null;
  const lines = [own, extra].filter(Boolean);
  if (!lines.length) return null;
  if (lines.length === 1) return lines[0];
  return lines.map((t, i) => (i < lines.length - 1 && !/[.!?…:]$/.test(t) ? t + "." : t));
}

// One question -> its field object ({el, focusId, setError, getValue, setValue, inputs|input}).
function questionField(q, value, isHeading, answers = {}) {
  const id = `q-${q.id}`;
  const label = `${q.label || q.id}${q.required ? "" : T.wizard.optional}`;
  const hint = hintFor(q);
  const shown = answerForInput(q, value);
  const options = questionOptions(q);
  switch (q.kind) {
    case "yesno":
      return radiosField({ name: id, idPrefix: id, legend: label, legendIsHeading: isHeading, hint, options, value: shown, inline: true });
    case "select":
      if (options.length <= 5) {
        return radiosField({ name: id, idPrefix: id, legend: label, legendIsHeading: isHeading, hint, options, value: shown });
      }
      return selectField({ id, label, labelIsHeading: isHeading, hint, options, value: shown });
    case "textarea":
      return textField({ id, label, labelIsHeading: isHeading, hint, multiline: true, rows: 6, value: shown, maxlength: q.max_length });
    case "date":
      return textField({
        id, label, labelIsHeading: isHeading, hint, type: "date", value: shown, width: "date",
        max: q.allows_future ? null : todayISO(),
        min: q.not_before ? parseDayAnswer(answers[q.not_before] || "") || null : null,
      });
    case "number":
      return textField({ id, label, labelIsHeading: isHeading, hint, inputmode: "numeric", value: shown, width: "10", spellcheck: false });
    case "money":
      return textField({ id, label, labelIsHeading: isHeading, hint, inputmode: "decimal", value: shown, width: "10", suffix: T.wizard.moneySuffix, spellcheck: false });
    case "phone":
      return textField({ id, label, labelIsHeading: isHeading, hint, type: "tel", inputmode: "tel", autocomplete: "tel", value: shown, width: "20", spellcheck: false });
    default:
      return textField({ id, label, labelIsHeading: isHeading, hint, value: shown, maxlength: q.max_length, width: q.max_length && q.max_length <= 40 ? "20" : null });
  }
}

function watch(field, onChange) {
  const els = field.inputs || [field.input];
  for (const el of els) {
    el.addEventListener("input", onChange);
    el.addEventListener("change", onChange);
  }
}

export async function wizardView(ctx) {
  const s = await loadDraft(ctx);
  if (!s) return;
  const total = s.pages.length;
  if (!total) return ctx.go(claimPath(s.id, "/check"), { replace: true });
  let n = parseInt(ctx.params.step, 10);
  if (!(n >= 1)) n = 1;
  if (n > total) return ctx.go(claimPath(s.id, "/check"), { replace: true });

  const questions = s.pages[n - 1];
  const fromCheck = Boolean(ctx.query.q);
  const single = questions.length === 1;
  const fields = questions.map((q) => {
    const f = questionField(q, s.answers[q.id], single, s.answers);
    watch(f, () => {
      s.setAnswer(q, f.getValue());
      // A later date on this page may not be earlier than this one: keep its picker's lower bound in step.
      questions.forEach((other, i) => {
        if (other.not_before === q.id && fields[i].input) {
          const min = parseDayAnswer(s.answers[q.id] || "");
          if (min) fields[i].input.min = min;
          else fields[i].input.removeAttribute("min");
        }
      });
    });
    return f;
  });
  // Shows the working copy in the controls (after it changed elsewhere), leaving alone what the person is
  // typing right now: those edits are in the working copy already.
  const showAnswers = () => {
    questions.forEach((q, i) => {
      if (s.unsaved.has(q.id)) return;
      const f = fields[i];
      if (sameValue(normalizeAnswer(q, f.getValue()), s.answers[q.id])) return;
      f.setValue(answerForInput(q, s.answers[q.id]));
    });
  };
  const noticeSlot = h("div", { class: "notice-slot" });
  const errors = h("div", { class: "error-slot" });
  const submit = h("button", { type: "submit", class: "button", id: "next" }, n < total ? T.wizard.next : T.wizard.toCheck);
  const status = saveStatus(ctx, s, (text) => {
    showAnswers();
    noticeSlot.replaceChildren(notice(text, "info", { id: "claim-notice" }));
  });
  const form = h("form", { novalidate: true, class: "form" }, fields.map((f) => f.el), submit, status);

  const showProblems = (problems) => {
    questions.forEach((q, i) => fields[i].setError((problems.find((p) => p.q === q) || {}).message || null));
    return showErrorSummary(errors, problems.map((p) => ({ id: fields[questions.indexOf(p.q)].focusId, message: p.message })));
  };

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    // Take the controls' current values (autofill may not fire input events).
    questions.forEach((q, i) => {
      const v = fields[i].getValue();
      if (v !== answerForInput(q, s.answers[q.id])) s.setAnswer(q, v);
    });
    const problems = s.validate(questions);
    if (problems.length) {
      showProblems(problems);
      return;
    }
    s.saver.flush();
    // Came here with «Изменить» from the check page: go back there once everything required is answered.
    const backToCheck = fromCheck && firstIncompletePage(s.pages, s.answers) === -1;
    ctx.go(n < total && !backToCheck ? claimPath(s.id, `/step/${n + 1}`) : claimPath(s.id, "/check"));
  });

  // Save on page change, whatever way the person leaves.
  ctx.onCleanup(() => { s.saver.flush(); });
  if (s.saver.dirty) s.saver.touch();

  const title = single ? questions[0].label : s.type.title || s.claim.type_title || "";
  const back = fromCheck ? "#" + claimPath(s.id, "/check") : n === 1 ? "#/" : "#" + claimPath(s.id, `/step/${n - 1}`);
  noticeSlot.append(takeNotice(s) || "");
  ctx.render("wizard", T.wizard.step(n, total) + ": " + title, [
    backLink(back),
    noticeSlot,
    errors,
    caption(T.wizard.step(n, total), "progress"),
    single ? null : heading(title),
    form,
  ], { focus: ctx.query.q ? fields[questions.findIndex((q) => q.id === ctx.query.q)]?.focusId : null });

  rememberStep(s, n);

  // Errors remembered from the check page or the server's 422 for questions on this page.
  const pending = questions.filter((q) => s.fieldErrors[q.id]).map((q) => ({ q, message: s.fieldErrors[q.id] }));
  if (pending.length) showProblems(pending);
}

export async function checkView(ctx) {
  const s = await loadDraft(ctx);
  if (!s) return;
  const id = s.id;
  const stepHref = (i, q) => "#" + claimPath(id, `/step/${i + 1}?q=${encodeURIComponent(q.id)}`);

  const list = h("dl", { class: "summary-list", id: "answers" });
  const problems = [];
  s.pages.forEach((page, i) => {
    for (const q of page) {
      const value = answerForDisplay(q, s.answers[q.id]);
      const err = s.fieldErrors[q.id];
      if (err) problems.push({ href: stepHref(i, q), message: err });
      list.append(h("div", { class: `summary-list__row${err ? " summary-list__row--error" : ""}`, id: `row-${q.id}` },
        h("dt", { class: "summary-list__key" }, q.label || q.id),
        h("dd", { class: "summary-list__value" },
          err ? h("p", { class: "error-message" }, visuallyHidden(T.errorHidden + " "), err) : null,
          value ? h("span", { class: "pre-line" }, value) : h("span", { class: "hint" }, T.check.notAnswered)),
        h("dd", { class: "summary-list__actions" },
          h("a", { href: stepHref(i, q), class: "link", id: `change-${q.id}` }, T.check.change, visuallyHidden(` ${q.label || q.id}`)))));
    }
  });
  for (const m of s.formErrors || []) problems.push({ id: null, message: m });
  s.formErrors = [];

  const submit = h("button", { type: "submit", class: "button", id: "submit-claim" }, T.check.submit);
  const status = saveStatus(ctx, s);
  const form = h("form", { novalidate: true, class: "form" },
    h("p", { class: "body declaration" }, T.check.declaration), submit, status);

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (submit.disabled) return;
    const client = s.validate();
    if (client.length) {
      for (const p of client) s.fieldErrors[p.q.id] = p.message;
      ctx.reload();
      return;
    }
    submit.disabled = true;
    submit.textContent = T.check.submitting;
    try {
      await s.saver.flush();
      const res = await api.submitWizard(id, { ...s.answers }, s.revision);
      s.fieldErrors = {};
      s.submission = res;
      if (typeof res.revision === "number") s.revision = res.revision;
      Object.assign(s.claim, {
        submission_id: res.submission_id,
        session_token: res.session_token,
        stream_url: res.stream_url,
        revision: s.revision,
        submitted_revision: s.revision,
        plan: null,
        plan_is_current: false,
      });
      ctx.go(claimPath(id, "/wait"));
    } catch (e) {
      if (!ctx.alive()) return;
      submit.disabled = false;
      submit.textContent = T.check.submit;
      if (e.status === 401) return ctx.fail(e);
      if (e.code === "revision_conflict" && e.details.claim) {
        s.adopt(e.details.claim);
        s.notice = T.wizard.refreshed;
      } else if (e.code === "not_a_draft") {
        ctx.go(claimPath(id), { replace: true, flash: { text: T.wizard.notDraft } });
        return;
      } else if (e.code === "validation_failed" || (e.status === 422 && (e.fields.length || e.field))) {
        const list422 = s.applyServerErrors(e);
        s.formErrors = list422.filter((x) => !x.q).map((x) => x.message);
      } else {
        s.formErrors = [e.message];
      }
      ctx.reload();
    }
  });

  const summary = problems.length ? errorSummary(problems) : null;
  const total = s.pages.length;
  ctx.render("check", T.check.heading, [
    backLink(total ? "#" + claimPath(id, `/step/${total}`) : "#/"),
    takeNotice(s),
    h("div", { class: "error-slot" }, summary),
    heading(T.check.heading),
    h("p", { class: "body" }, T.check.intro),
    list,
    form,
  ], { focus: summary });
  if (summary) setErrorTitle(true);
  rememberStep(s, total + 1);
}

// Resume a draft where the person left it (the step stored on the server, whichever device it was), else on the
// first page with an unanswered required question, or the check page.
export async function resumeView(ctx) {
  const s = await ctx.guard(openClaim(ctx.params.id));
  if (s.claim.status !== "draft") return ctx.go(claimPath(s.id), { replace: true });
  // Sent and prepared meanwhile (the person did not wait): straight to checking and confirming it.
  if (planMatches(s.claim) && !s.claim.is_confirmed) return ctx.go(claimPath(s.id, "/confirm"), { replace: true });
  const stored = Number(s.claim.wizard_step);
  if (Number.isInteger(stored) && stored >= 1 && stored <= s.pages.length + 1) {
    return ctx.go(claimPath(s.id, stored > s.pages.length ? "/check" : `/step/${stored}`), { replace: true });
  }
  const idx = firstIncompletePage(s.pages, s.answers);
  ctx.go(claimPath(s.id, idx === -1 ? "/check" : `/step/${idx + 1}`), { replace: true });
}
