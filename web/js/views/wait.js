// Waiting for the claim plan over SSE. Survives reloads: the claim is read first, and a plan
// that is already there goes straight to confirmation.

import { api } from "../api.js";
import { T } from "../texts.js";
import { h, button, heading, setTitle } from "../dom.js";
import { openClaimFresh, planMatches, submissionOutdated } from "../claim-model.js";
import { claimPath } from "./wizard.js";

// After this long the page says so and offers to come back later (the plan is kept; the draft opens it).
const SLOW_AFTER_S = 10;

// The submission no longer matches the answers (edited since, maybe in another tab): explain, go to the check page.
export function toCheckStale(ctx, s) {
  s.notice = T.check.stale;
  ctx.go(claimPath(s.id, "/check"), { replace: true });
}

export async function waitView(ctx) {
  const id = ctx.params.id;
  const s = await ctx.guard(openClaimFresh(id));
  const claim = s.claim;
  if (claim.status !== "draft" || claim.is_confirmed) return ctx.go(claimPath(id), { replace: true });
  if (planMatches(claim)) return ctx.go(claimPath(id, "/confirm"), { replace: true });
  // Answers changed since the submission: its plan is void, the person sends the claim again.
  if (submissionOutdated(claim)) return toCheckStale(ctx, s);
  let streamUrl = claim.stream_url
    || (s.submission && s.submission.submission_id === claim.submission_id ? s.submission.stream_url : null);
  if (!streamUrl) return ctx.go(claimPath(id, "/check"), { replace: true });

  const h1 = heading(T.wait.heading);
  const intro = h("p", { class: "body", id: "wait-intro" }, T.wait.intro);
  const status = h("p", { class: "wait-status", id: "wait-status", role: "status", "aria-live": "polite" }, T.wait.waiting);
  const elapsed = h("p", { class: "hint elapsed", id: "elapsed", "aria-live": "off" }, T.wait.elapsed(0));
  const waitingBox = h("div", { class: "waiting", id: "waiting" },
    h("span", { class: "waiting__dots", "aria-hidden": "true" }, h("span"), h("span"), h("span")), elapsed);
  const actions = h("div", { class: "wait-actions" });

  let es = null;
  let tick = null;
  let started = Date.now();
  let slowShown = false;
  let done = false;

  const close = () => {
    if (es) {
      es.close();
      es = null;
    }
  };
  const stopTimer = () => {
    clearInterval(tick);
    tick = null;
  };
  ctx.onCleanup(() => {
    done = true;
    close();
    stopTimer();
  });

  const setStatus = (text) => {
    if (status.textContent !== text) status.textContent = text;
  };

  const leaveHint = () => h("p", { class: "body" },
    T.wait.leave, " ", h("a", { href: "#/", class: "link", id: "later" }, T.backToStart));

  // Slow: offer a Telegram message instead of waiting, when the person has Telegram and the bot is configured.
  const telegramSlot = h("div", { class: "telegram-offer", id: "telegram-offer" });
  const offerTelegram = async () => {
    const submissionId = s.claim.submission_id;
    let offer;
    try {
      offer = await api.telegramNotice(id);
    } catch (e) {
      return; // no offer: waiting still works
    }
    if (done || !offer || !offer.available) return;
    const asked = () => telegramSlot.replaceChildren(h("p", { class: "body", id: "telegram-asked" }, T.wait.telegramAsked));
    if (offer.requested) return asked();
    const ask = button(T.wait.telegramAsk, { id: "notify-telegram", variant: "secondary" });
    ask.addEventListener("click", async () => {
      ask.disabled = true;
      try {
        await api.askTelegramNotice(id, submissionId);
        if (!done) asked();
      } catch (e) {
        if (done) return;
        ask.disabled = false;
        setStatus(e.message);
      }
    });
    telegramSlot.replaceChildren(h("p", { class: "body" }, T.wait.telegramOffer), ask);
  };

  const startTimer = () => {
    started = Date.now();
    slowShown = false;
    elapsed.textContent = T.wait.elapsed(0);
    stopTimer();
    tick = setInterval(() => {
      const sec = Math.floor((Date.now() - started) / 1000);
      elapsed.textContent = T.wait.elapsed(sec);
      if (sec >= SLOW_AFTER_S && !slowShown) {
        slowShown = true;
        setStatus(T.wait.slow);
        offerTelegram();
      }
    }, 1000);
  };

  const showFailure = (kind) => {
    if (done) return;
    close();
    stopTimer();
    const title = kind === "timeout" ? T.wait.timeoutHeading : T.wait.errorHeading;
    h1.textContent = title;
    setTitle(title);
    waitingBox.hidden = true;
    intro.hidden = true;
    telegramSlot.replaceChildren();
    setStatus(kind === "timeout" ? T.wait.timeout : kind === "lost" ? T.wait.lost : T.wait.error);
    const retry = button(T.wait.retry, { id: "retry", onclick: () => retrySubmit(retry) });
    const secondary = kind === "timeout"
      ? h("a", { href: "#/", class: "link", id: "later" }, T.wait.later)
      : h("a", { href: "#" + claimPath(id, "/check"), class: "link", id: "back-to-answers" }, T.wait.backToAnswers);
    actions.replaceChildren(h("div", { class: "button-group" }, retry, secondary));
    h1.focus();
  };

  const goConfirm = (plan) => {
    if (done) return;
    close();
    stopTimer();
    if (plan) Object.assign(s.claim, { plan, plan_is_current: true });
    setStatus(T.wait.ready);
    ctx.go(claimPath(id, "/confirm"), { replace: true });
  };

  // The stream ended for good without a terminal event for us (4xx, 204): ask the claim itself.
  const recheck = async () => {
    try {
      const fresh = await api.claim(id);
      if (done) return;
      s.adopt(fresh);
      if (fresh.status !== "draft" || fresh.is_confirmed) return ctx.go(claimPath(id), { replace: true });
      if (planMatches(fresh)) return goConfirm(fresh.plan);
      // 409 not_submitted: the answers changed after sending.
      if (submissionOutdated(fresh) || !fresh.submission_id) {
        done = true;
        close();
        stopTimer();
        return toCheckStale(ctx, s);
      }
      showFailure("lost");
    } catch (e) {
      if (done) return;
      if (e.status === 401) return ctx.fail(e);
      showFailure("lost");
    }
  };

  const subscribe = (url) => {
    close();
    es = new EventSource(url);
    es.addEventListener("open", () => {
      if (status.textContent === T.wait.reconnecting) setStatus(slowShown ? T.wait.slow : T.wait.waiting);
    });
    es.addEventListener("claim_plan_ready", (ev) => {
      let plan = null;
      try {
        plan = JSON.parse(ev.data);
      } catch (e) {
        plan = null;
      }
      goConfirm(plan);
    });
    es.addEventListener("claim_plan_error", () => showFailure("error"));
    es.addEventListener("claim_plan_timeout", () => showFailure("timeout"));
    es.addEventListener("error", () => {
      if (done || !es) return;
      if (es.readyState === EventSource.CLOSED) {
        close();
        recheck();
      } else {
        setStatus(T.wait.reconnecting);
      }
    });
  };

  // «Попробовать ещё раз»: submit the same answers and revision again (the server reuses the submission).
  const retrySubmit = async (btn) => {
    if (btn.disabled) return;
    btn.disabled = true;
    btn.textContent = T.wait.retrying;
    try {
      if (!s.saver.busy) s.adopt(await api.claim(id));
      if (s.claim.status !== "draft" || s.claim.is_confirmed) return ctx.go(claimPath(id), { replace: true });
      if (submissionOutdated(s.claim)) return toCheckStale(ctx, s);
      else await s.saver.flush();
      const res = await api.submitWizard(id, { ...s.answers }, s.revision);
      if (done) return;
      s.submission = res;
      if (typeof res.revision === "number") s.revision = res.revision;
      Object.assign(s.claim, {
        submission_id: res.submission_id, session_token: res.session_token, stream_url: res.stream_url,
        revision: s.revision, submitted_revision: s.revision, plan: null, plan_is_current: false,
      });
      streamUrl = res.stream_url;
      h1.textContent = T.wait.heading;
      setTitle(T.wait.heading);
      intro.hidden = false;
      waitingBox.hidden = false;
      actions.replaceChildren(leaveHint());
      setStatus(T.wait.waiting);
      startTimer();
      subscribe(streamUrl);
    } catch (e) {
      if (done) return;
      btn.disabled = false;
      btn.textContent = T.wait.retry;
      if (e.status === 401) return ctx.fail(e);
      if (e.code === "revision_conflict" && e.details.claim) {
        s.adopt(e.details.claim);
        s.notice = T.wizard.refreshed;
        return ctx.go(claimPath(id, "/check"));
      }
      if (e.code === "not_a_draft") return ctx.go(claimPath(id), { replace: true });
      if (e.status === 422) {
        const list = s.applyServerErrors(e);
        s.formErrors = list.filter((x) => !x.q).map((x) => x.message);
        return ctx.go(claimPath(id, "/check"));
      }
      setStatus(e.message);
    }
  };

  actions.append(leaveHint());
  ctx.render("wait", T.wait.heading, [h1, intro, status, waitingBox, telegramSlot, actions]);
  startTimer();
  subscribe(streamUrl);
}
