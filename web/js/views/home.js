// Start page: who is signed in, drafts to continue, submitted claims, «Подать новую заявку».

import { api } from "../api.js";
import { T, statusText } from "../texts.js";
import { h, button, heading, linkButton, notice, visuallyHidden } from "../dom.js";
import { claimNumber, formatDate, formatDateTime, formatPhone } from "../format.js";
import {
  answerForDisplay, answeredCount, findType, firstIncompletePage, loadClaimTypes, paginate, forgetClaims,
} from "../claim-model.js";
import { pendingLogin } from "../session.js";

function draftProgress(draft, types) {
  const type = types && findType(types, draft.type_code);
  if (type && Array.isArray(type.questions) && type.questions.length) {
    const pages = paginate(type.questions);
    const step = Number(draft.wizard_step);
    if (Number.isInteger(step) && step >= 1 && step <= pages.length) return T.home.draftStep(step, pages.length);
    const idx = firstIncompletePage(pages, draft.answers || {});
    return idx === -1 ? T.home.draftReady : T.home.draftStep(idx + 1, pages.length);
  }
  return T.home.draftAnswered(answeredCount(draft.answers));
}

function typeTitle(claim, types) {
  const type = types && findType(types, claim.type_code);
  return (type && type.title) || claim.type_title || claim.type_code || "";
}

// What tells two drafts of one type apart: when it was started, and the policy number / event date if answered.
const DETAIL_QUESTIONS = ["policy_number", "event_date"];

function draftDetails(draft, types) {
  const type = types && findType(types, draft.type_code);
  const answers = draft.answers || {};
  const out = [];
  if (draft.created_at) out.push(T.home.createdOn(formatDate(draft.created_at)));
  for (const id of DETAIL_QUESTIONS) {
    const value = answers[id];
    if (value === undefined || value === null || String(value).trim() === "") continue;
    const q = (type && (type.questions || []).find((x) => x.id === id)) || { id, kind: id.endsWith("_date") ? "date" : "text" };
    out.push(T.home.detail(q.label || id, answerForDisplay(q, value)));
  }
  return out;
}

function draftItem(ctx, draft, types) {
  const title = typeTitle(draft, types);
  const details = draftDetails(draft, types);
  return h("li", { class: "task-list__item draft-item", dataset: { claimId: draft.claim_id } },
    h("h3", { class: "heading-s task-list__title" }, title),
    details.length ? h("p", { class: "task-list__meta draft-details" }, details.join(" · ")) : null,
    h("p", { class: "task-list__meta" }, draftProgress(draft, types)),
    h("p", { class: "task-list__meta hint" }, T.home.changedAt(formatDateTime(draft.updated_at || draft.created_at))),
    button(T.home.resume, {
      class: "button button--secondary resume-draft",
      onclick: () => ctx.go(`/claims/${encodeURIComponent(draft.claim_id)}/edit`),
    }, visuallyHidden(T.home.resumeHidden(title, details.join(", ")))));
}

function claimItem(claim, types) {
  const number = claimNumber(claim);
  return h("li", { class: "task-list__item claim-item", dataset: { claimId: claim.claim_id } },
    h("h3", { class: "heading-s task-list__title" },
      h("a", { href: `#/claims/${encodeURIComponent(claim.claim_id)}`, class: "link", id: `open-claim-${claim.claim_id}` },
        T.home.claimNumber(number))),
    h("p", { class: "task-list__meta" }, typeTitle(claim, types)),
    h("p", { class: "task-list__meta" },
      h("strong", { class: `tag tag--${claim.status}` }, statusText(claim.status)),
      " ",
      h("span", { class: "hint" }, T.home.createdAt(formatDate(claim.created_at)))));
}

export async function homeView(ctx) {
  let me;
  try {
    me = await ctx.guard(api.me());
  } catch (e) {
    if (!ctx.alive()) throw e;
    if (e.status === 401) {
      ctx.go("/login", { replace: true });
      return;
    }
    // Server unreachable or broken: the sign-in page still works and explains.
    ctx.go("/login", { replace: true, flash: { text: T.errors.meUnavailable, variant: "error" } });
    return;
  }

  const [drafts, claims, types] = await ctx.guard(Promise.allSettled([api.drafts(), api.claims(), loadClaimTypes()]));
  for (const r of [drafts, claims]) if (r.status === "rejected" && r.reason && r.reason.status === 401) throw r.reason;
  const typeList = types.status === "fulfilled" ? types.value : null;

  const logout = linkButton(T.home.logout, { id: "logout" });
  logout.addEventListener("click", async () => {
    logout.disabled = true;
    try {
      await api.logout();
    } catch (e) {
      if (e.status !== 401) {
        logout.disabled = false;
        logout.after(h("span", { class: "error-message", role: "alert" }, " " + e.message));
        return;
      }
    }
    forgetClaims();
    pendingLogin.clear();
    ctx.go("/login", { replace: true });
  });

  const draftSection = h("section", { class: "section", "aria-labelledby": "drafts-heading" },
    h("h2", { class: "heading-m", id: "drafts-heading" }, T.home.draftsHeading));
  if (drafts.status === "rejected") {
    draftSection.append(notice(`${T.home.loadFailed} ${drafts.reason.message}`, "error"));
  } else {
    const list = (drafts.value.drafts || []).filter((d) => d && d.claim_id);
    if (list.length) draftSection.append(h("ul", { class: "task-list", id: "drafts" }, list.map((d) => draftItem(ctx, d, typeList))));
    else draftSection.append(h("p", { class: "body" }, T.home.draftsEmpty));
  }

  const claimSection = h("section", { class: "section", "aria-labelledby": "claims-heading" },
    h("h2", { class: "heading-m", id: "claims-heading" }, T.home.claimsHeading));
  if (claims.status === "rejected") {
    claimSection.append(notice(`${T.home.loadFailed} ${claims.reason.message}`, "error"));
  } else {
    const list = (claims.value.claims || []).filter((c) => c && c.claim_id && c.status !== "draft");
    if (list.length) claimSection.append(h("ul", { class: "task-list", id: "claims" }, list.map((c) => claimItem(c, typeList))));
    else claimSection.append(h("p", { class: "body" }, T.home.claimsEmpty));
  }

  ctx.render("home", T.home.heading, [
    h("div", { class: "account-bar" },
      h("p", { class: "account-bar__who" }, T.home.signedInAs,
        h("span", { class: "nowrap" }, me.display_phone || formatPhone(me.phone))),
      logout),
    heading(T.home.heading),
    button(T.home.newClaim, { id: "new-claim", variant: "start", onclick: () => ctx.go("/new") }),
    draftSection,
    claimSection,
  ]);
}
