// clpr web app: boot, hash router and the view context shared by all views.

import { T, setLanguage } from "./js/texts.js";
import { h, clear, heading, notice, setTitle, button } from "./js/dom.js";
import { returnTo } from "./js/session.js";
import { ApiError } from "./js/api.js";
import { phoneView, codeView } from "./js/views/login.js";
import { homeView } from "./js/views/home.js";
import { typeView } from "./js/views/type.js";
import { wizardView, checkView, resumeView } from "./js/views/wizard.js";
import { waitView } from "./js/views/wait.js";
import { confirmView } from "./js/views/confirm.js";
import { doneView } from "./js/views/done.js";
import { documentsView } from "./js/views/documents.js";
import { signInWithTelegram } from "./js/telegram.js";

const ID = "([^/?#]+)";
const routes = [
  [/^\/login$/, phoneView],
  [/^\/login\/code$/, codeView],
  [/^\/$/, homeView],
  [/^\/new$/, typeView],
  [new RegExp(`^/claims/${ID}/step/(\\d+)$`), wizardView, ["id", "step"]],
  [new RegExp(`^/claims/${ID}/check$`), checkView, ["id"]],
  [new RegExp(`^/claims/${ID}/edit$`), resumeView, ["id"]],
  [new RegExp(`^/claims/${ID}/wait$`), waitView, ["id"]],
  [new RegExp(`^/claims/${ID}/confirm$`), confirmView, ["id"]],
  [new RegExp(`^/claims/${ID}/documents$`), documentsView, ["id"]],
  [new RegExp(`^/claims/${ID}$`), doneView, ["id"]],
];

const main = document.getElementById("main");
let seq = 0;
let cleanups = [];
let firstRender = true;
// The language switch reloads the page: the new page gives the keyboard focus back to the switch (a flag for
// this tab, read once), instead of leaving it on <body> at the top of the page.
const SWITCHED_KEY = "clpr.languageSwitched";
let focusSwitch = takeSwitched();

function takeSwitched() {
  try {
    const set = sessionStorage.getItem(SWITCHED_KEY) === "1";
    sessionStorage.removeItem(SWITCHED_KEY);
    return set;
  } catch (e) {
    return false;
  }
}
let pendingFlash = null;
let prev = { path: "", params: {} };

class StaleRoute extends Error {}

function parseHash() {
  const raw = location.hash.replace(/^#/, "");
  if (raw !== "" && !raw.startsWith("/")) return null; // in-page anchor (#main, #q-…): not a route
  const [path, qs] = (raw || "/").split("?");
  return { path: path || "/", query: Object.fromEntries(new URLSearchParams(qs || "")) };
}

export function go(path, { replace = false, flash = null } = {}) {
  pendingFlash = flash;
  const target = "#" + path;
  if (replace) {
    history.replaceState(null, "", target);
    route();
  } else if (location.hash === target) {
    route();
  } else {
    location.hash = path;
  }
}

function match(path) {
  for (const [re, view, names = []] of routes) {
    const m = re.exec(path);
    if (m) {
      const params = {};
      names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
      return { view, params };
    }
  }
  return { view: notFoundView, params: {} };
}

function runCleanups() {
  const list = cleanups;
  cleanups = [];
  for (const fn of list) {
    try { fn(); } catch (e) { console.error(e); }
  }
}

async function route() {
  const loc = parseHash();
  if (!loc) return;
  runCleanups();
  const token = ++seq;
  const { view, params } = match(loc.path);
  const flash = pendingFlash;
  pendingFlash = null;
  const previous = prev;
  prev = { path: loc.path, params };

  const loadingTimer = setTimeout(() => {
    if (token !== seq) return;
    main.setAttribute("aria-busy", "true");
    clear(main);
    main.append(h("p", { class: "loading", role: "status" }, T.loading));
  }, 300);

  const ctx = {
    params,
    query: loc.query,
    path: loc.path,
    prev: previous,
    flash,
    alive: () => token === seq,
    // Resolves with the promise's value, or stops the view silently if the route changed meanwhile.
    async guard(p) {
      const v = await p;
      if (token !== seq) throw new StaleRoute();
      return v;
    },
    onCleanup(fn) {
      if (token === seq) cleanups.push(fn);
      else fn();
    },
    go,
    // Renders the current route again (e.g. after adopting a newer copy of the claim).
    reload: () => route(),
    // Replaces the content of <main>. opts: {focus: element id | element}
    render(step, title, nodes, opts = {}) {
      if (token !== seq) throw new StaleRoute();
      clearTimeout(loadingTimer);
      main.removeAttribute("aria-busy");
      main.dataset.step = step;
      clear(main);
      if (flash) main.append(notice(flash.text || flash, flash.variant || "info"));
      for (const n of nodes.flat()) if (n) main.append(n);
      setTitle(title);
      const target = typeof opts.focus === "string" ? document.getElementById(opts.focus) : opts.focus;
      if (focusSwitch) {
        // Just switched language: the focus stays on the switch (unless the person has moved it meanwhile).
        focusSwitch = false;
        const active = document.activeElement;
        const languageSwitch = document.getElementById("language-switch");
        if (languageSwitch && (!active || active === document.body || active === languageSwitch)) languageSwitch.focus();
      } else if (target) {
        target.focus();
      } else if (!firstRender) {
        window.scrollTo(0, 0);
        const h1 = main.querySelector("h1");
        (h1 || main).focus();
      }
      firstRender = false;
    },
    // Generic failure handling: 401 -> sign in and come back; otherwise an error page.
    fail(err) {
      if (token !== seq) return;
      if (err && err.status === 401) {
        if (!loc.path.startsWith("/login")) returnTo.set(loc.path);
        go("/login", { replace: true, flash: { text: T.errors.sessionExpired, variant: "info" } });
        return;
      }
      if (!(err instanceof ApiError)) console.error(err);
      errorView(ctx, err);
    },
  };

  try {
    await view(ctx);
  } catch (e) {
    if (e instanceof StaleRoute) return;
    ctx.fail(e);
  } finally {
    clearTimeout(loadingTimer);
  }
}

function errorView(ctx, err) {
  const title = err && err.code === "claim_not_found" ? T.errorPage.claimNotFound
    : err && err.status === 403 ? T.errorPage.forbidden
    : T.errorPage.heading;
  const message = (err && err.message) || T.errors.generic;
  ctx.render("error", title, [
    heading(title),
    h("p", { class: "body" }, message),
    h("div", { class: "button-group" },
      button(T.errorPage.retry, { id: "retry-page", onclick: () => route() }),
      h("a", { href: "#/", class: "link" }, T.backToStart)),
  ]);
}

function notFoundView(ctx) {
  ctx.render("error", T.notFound.heading, [
    heading(T.notFound.heading),
    h("p", { class: "body" }, T.notFound.text),
    h("p", { class: "body" }, h("a", { href: "#/", class: "link" }, T.backToStart)),
  ]);
}

// Skip link and other in-page anchors must not trigger the router.
document.addEventListener("click", (ev) => {
  const a = ev.target instanceof Element ? ev.target.closest('a[href^="#"]') : null;
  if (!a) return;
  const href = a.getAttribute("href");
  if (href.startsWith("#/") || href === "#") return;
  const target = document.getElementById(href.slice(1));
  if (target) {
    ev.preventDefault();
    target.focus();
  }
});

// Shell texts come from the catalog too; the page's language is the catalog's.
document.documentElement.lang = T.lang;
for (const [sel, text] of [[".skip-link", T.skipLink], [".header__name", T.serviceName], [".footer__text", T.footer]]) {
  const el = document.querySelector(sel);
  if (el) el.textContent = text;
}

// The language switch offers the other language, in that language (so it is marked with its own lang).
const headerInner = document.querySelector(".header__inner");
if (headerInner) {
  const sw = T.languageSwitch;
  const languageSwitch = h("button", {
    type: "button",
    class: "header__lang",
    id: "language-switch",
    lang: sw.lang,
    title: sw.hint,
    onclick: () => {
      try {
        sessionStorage.setItem(SWITCHED_KEY, "1");
      } catch (e) {
        // storage disabled: the new page starts with the focus at the top, as on any load
      }
      setLanguage(sw.lang);
    },
  }, sw.label);
  headerInner.append(languageSwitch);
  if (focusSwitch) languageSwitch.focus(); // from the start, while the first view loads
}

// Inside Telegram the person is signed in with Telegram's signed launch data first; a refusal
// (stale data) falls back to the phone login with the reason shown.
async function boot() {
  try {
    await signInWithTelegram();
  } catch (e) {
    pendingFlash = { text: (e && e.message) || T.telegram.failed, variant: "error" };
    history.replaceState(null, "", location.pathname + location.search + "#/login");
  }
  window.addEventListener("hashchange", route);
  route();
}

boot();
