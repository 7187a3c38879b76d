// Sign-in: phone number page, then the one-time code page.

import { api } from "../api.js";
import { T, sentence } from "../texts.js";
import { h, button, backLink, heading, showErrorSummary, setErrorTitle } from "../dom.js";
import { textField } from "../fields.js";
import { formatPhone, phoneDigitsCount } from "../format.js";
import { pendingLogin, returnTo } from "../session.js";

function setBusy(btn, busy, busyText, idleText) {
  btn.disabled = busy;
  btn.textContent = busy ? busyText : idleText;
  if (busy) btn.setAttribute("aria-busy", "true");
  else btn.removeAttribute("aria-busy");
}

function saveSent(res, typed) {
  pendingLogin.set({
    phone: res.phone,
    display_phone: res.display_phone || formatPhone(res.phone),
    expires_in: res.expires_in,
    resend_at: Date.now() + (Number(res.resend_after) || 60) * 1000,
    typed,
  });
}

export async function phoneView(ctx) {
  const stored = pendingLogin.get();
  const errors = h("div", { class: "error-slot" });
  const field = textField({
    id: "phone",
    name: "phone",
    label: T.login.heading,
    labelIsHeading: true,
    hint: T.login.hint,
    type: "tel",
    inputmode: "tel",
    autocomplete: "tel",
    spellcheck: false,
    width: "20",
    value: (stored && stored.typed) || "",
  });
  const submit = h("button", { type: "submit", class: "button", id: "send-code" }, T.login.sendCode);
  const form = h("form", { novalidate: true, class: "form" }, field.el, submit);

  const fail = (items, fieldMessage) => {
    field.setError(fieldMessage || null);
    showErrorSummary(errors, items);
  };

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (submit.disabled) return;
    const typed = field.input.value.trim();
    if (!typed) return fail([{ id: "phone", message: T.login.phoneEmpty }], T.login.phoneEmpty);
    if (phoneDigitsCount(typed) < 10) return fail([{ id: "phone", message: T.login.phoneShort }], T.login.phoneShort);
    setBusy(submit, true, T.login.sending, T.login.sendCode);
    try {
      const res = await api.requestCode(typed);
      saveSent(res, typed);
      ctx.go("/login/code");
    } catch (e) {
      if (!ctx.alive()) return;
      setBusy(submit, false, T.login.sending, T.login.sendCode);
      const prior = pendingLogin.get();
      if (e.code === "resend_too_soon" && prior) {
        // A code was already sent: let the person use it.
        prior.resend_at = Date.now() + (e.retryAfter || 60) * 1000;
        pendingLogin.set(prior);
        ctx.go("/login/code", { flash: { text: e.message, variant: "info" } });
        return;
      }
      if (e.field === "phone" || e.code === "invalid_phone") fail([{ id: "phone", message: e.message }], e.message);
      else fail([{ id: null, message: e.message }]);
    }
  });

  const extra = stored && stored.phone
    ? h("p", { class: "body" }, h("a", { href: "#/login/code", class: "link", id: "have-code" }, T.login.haveCode))
    : null;

  ctx.render("login", T.login.heading, [errors, form, extra]);
}

export async function codeView(ctx) {
  const st = pendingLogin.get();
  if (!st || !st.phone) {
    ctx.go("/login", { replace: true, flash: { text: T.code.noPhone } });
    return;
  }
  const display = st.display_phone || formatPhone(st.phone);
  const errors = h("div", { class: "error-slot" });
  const sentNote = h("p", { class: "body", id: "code-sent" }, T.code.sentTo, h("span", { class: "nowrap" }, display));
  const minutes = st.expires_in ? Math.max(1, Math.round(Number(st.expires_in) / 60)) : 0;
  const field = textField({
    id: "code",
    name: "code",
    label: T.code.label,
    hint: T.code.hint(minutes),
    type: "text",
    inputmode: "numeric",
    autocomplete: "one-time-code",
    spellcheck: false,
    width: "10",
    maxlength: 10,
  });
  field.input.setAttribute("pattern", "[0-9]*");
  const submit = h("button", { type: "submit", class: "button", id: "verify-code" }, T.code.verify);
  const form = h("form", { novalidate: true, class: "form" }, field.el, submit);

  // Resend: disabled until resend_at, with a visible countdown; one polite announcement when ready.
  const resend = button(T.code.resend, { id: "resend-code", variant: "secondary" });
  const timerText = h("p", { class: "hint", id: "resend-timer" });
  const resendLive = h("p", { class: "visually-hidden", id: "resend-live", "aria-live": "polite" });
  const resendStatus = h("div", { class: "status-slot", "aria-live": "polite" });
  let tick = null;
  const updateTimer = () => {
    const cur = pendingLogin.get() || st;
    const left = Math.ceil(((cur.resend_at || 0) - Date.now()) / 1000);
    if (left > 0) {
      resend.disabled = true;
      timerText.hidden = false;
      timerText.textContent = T.code.resendIn(left);
    } else {
      if (resend.disabled) resendLive.textContent = T.code.resendReady;
      resend.disabled = false;
      timerText.hidden = true;
      clearInterval(tick);
      tick = null;
    }
  };
  const startTimer = () => {
    clearInterval(tick);
    tick = setInterval(updateTimer, 1000);
    updateTimer();
  };
  ctx.onCleanup(() => clearInterval(tick));

  const allowResendNow = () => {
    const cur = pendingLogin.get() || st;
    cur.resend_at = Date.now();
    pendingLogin.set(cur);
    updateTimer();
  };

  resend.addEventListener("click", async () => {
    if (resend.disabled) return;
    resend.disabled = true;
    const cur = pendingLogin.get() || st;
    try {
      const res = await api.requestCode(cur.phone);
      saveSent(res, cur.typed);
      field.setError(null);
      field.input.value = "";
      showErrorSummary(errors, []);
      resendStatus.replaceChildren(h("div", { class: "notice notice--success" },
        h("p", { class: "notice__text" }, T.code.resent, h("span", { class: "nowrap" }, res.display_phone || display))));
      startTimer();
    } catch (e) {
      if (!ctx.alive()) return;
      if (e.code === "resend_too_soon") {
        cur.resend_at = Date.now() + (e.retryAfter || 60) * 1000;
        pendingLogin.set(cur);
      }
      startTimer();
      showErrorSummary(errors, [{ id: null, message: e.message }]);
    }
  });

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (submit.disabled) return;
    const code = field.input.value.replace(/[\s-]/g, "");
    let msg = null;
    if (!code) msg = T.code.codeEmpty;
    else if (!/^\d+$/.test(code)) msg = T.code.codeDigits;
    if (msg) {
      field.setError(msg);
      showErrorSummary(errors, [{ id: "code", message: msg }]);
      return;
    }
    setBusy(submit, true, T.code.verifying, T.code.verify);
    try {
      await api.verifyCode(st.phone, code);
      pendingLogin.clear();
      const back = returnTo.get();
      returnTo.clear();
      ctx.go(back && !back.startsWith("/login") ? back : "/", { replace: true });
    } catch (e) {
      if (!ctx.alive()) return;
      setBusy(submit, false, T.code.verifying, T.code.verify);
      resendStatus.replaceChildren();
      if (e.code === "invalid_code" || (e.field === "code" && e.status === 400)) {
        const left = e.details && Number.isFinite(e.details.attempts_left) ? e.details.attempts_left : null;
        // The server's message is «Неверный код»; the count comes from attempts_left (added once, as a sentence).
        const text = left !== null && !/осталось/i.test(e.message) ? `${sentence(e.message)} ${T.code.attemptsLeft(left)}` : e.message;
        field.setError(text);
        field.input.select();
        showErrorSummary(errors, [{ id: "code", message: text }]);
      } else if (e.code === "code_expired" || e.status === 410 || e.code === "too_many_attempts" || (e.status === 429 && e.code !== "resend_too_soon")) {
        const text = e.code === "code_expired" || e.status === 410 ? T.code.expired : T.code.locked;
        field.setError(null);
        field.input.value = "";
        allowResendNow();
        showErrorSummary(errors, [{ id: "resend-code", message: text }]);
      } else if (e.code === "code_not_found") {
        ctx.go("/login", { replace: true, flash: { text: T.code.notRequested } });
      } else {
        field.setError(null);
        showErrorSummary(errors, [{ id: null, message: e.message }]);
      }
    }
  });

  startTimer();
  ctx.render("code", T.code.heading, [
    backLink("#/login", T.code.changePhone),
    errors,
    heading(T.code.heading),
    sentNote,
    form,
    h("div", { class: "resend" }, resendStatus, timerText, resend, resendLive),
  ]);
  setErrorTitle(false);
}
