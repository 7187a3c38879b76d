// DOM helpers. Everything is built with createElement/textContent: no innerHTML anywhere,
// so text typed by a person (or sent by the server) always renders inert.

import { T } from "./texts.js";

const PROPS = new Set(["value", "checked", "disabled", "selected", "hidden", "tabIndex"]);

// h("p", {class: "hint", id: "x"}, "text", child, …)
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k === "for") el.htmlFor = v;
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), v);
      else if (PROPS.has(k)) el[k] = v;
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function visuallyHidden(text) {
  return h("span", { class: "visually-hidden", text });
}

// Heading that receives focus after a view change.
export function heading(text, props = {}) {
  return h("h1", { class: "heading-l", tabindex: "-1", ...props }, text);
}

export function caption(text, id) {
  return h("span", { class: "caption", id }, text);
}

export function backLink(href, text = T.back) {
  return h("a", { href, class: "back-link", id: "back" }, text);
}

export function button(text, props = {}, ...children) {
  const { variant, ...rest } = props;
  return h("button", { type: "button", class: `button${variant ? " button--" + variant : ""}`, ...rest }, text, ...children);
}

export function linkButton(text, props = {}) {
  return h("button", { type: "button", class: "link-button", ...props }, text);
}

// Puts focus on an element and scrolls its label (or legend) into view, like govuk-frontend.
export function focusField(id) {
  const el = document.getElementById(id);
  if (!el) return;
  const fieldset = el.closest("fieldset");
  const legend = fieldset && fieldset.querySelector("legend");
  const label = legend || document.querySelector(`label[for="${CSS.escape(id)}"]`);
  el.focus({ preventScroll: true });
  (label || el).scrollIntoView({ block: "start" });
}

// GOV.UK error summary. errors: [{id, message}] where id is the control to focus,
// or [{href, message}] for an error whose control is on another page.
export function errorSummary(errors) {
  const title = h("h2", { class: "error-summary__title", id: "error-summary-title" }, T.errorSummaryTitle);
  const list = h("ul", { class: "error-summary__list" });
  for (const e of errors) {
    const item = e.href
      ? h("a", { href: e.href }, e.message) // a link to another page of the wizard
      : e.id
      ? h("a", {
          href: "#" + e.id,
          onclick: (ev) => {
            ev.preventDefault();
            focusField(e.id);
          },
        }, e.message)
      : document.createTextNode(e.message);
    list.append(h("li", null, item));
  }
  return h("div", {
    class: "error-summary",
    role: "alert",
    tabindex: "-1",
    "aria-labelledby": "error-summary-title",
  }, title, list);
}

// Replaces (or removes) the error summary inside `slot` and focuses it. Also sets the title prefix.
export function showErrorSummary(slot, errors) {
  clear(slot);
  setErrorTitle(errors.length > 0);
  if (!errors.length) return null;
  const box = errorSummary(errors);
  slot.append(box);
  box.focus();
  box.scrollIntoView({ block: "start" });
  return box;
}

let baseTitle = "";
export function setTitle(text) {
  baseTitle = `${text}${T.titleSuffix}`;
  document.title = baseTitle;
}

export function setErrorTitle(hasError) {
  document.title = hasError ? T.errorTitlePrefix + baseTitle : baseTitle;
}

// Notification banner (important / success), polite.
export function notice(text, variant = "info", props = {}) {
  return h("div", { class: `notice notice--${variant}`, role: variant === "error" ? "alert" : "status", ...props },
    h("p", { class: "notice__text" }, text));
}

// Token list helper for aria-describedby.
export function setDescribedBy(el, add = [], remove = []) {
  const cur = new Set((el.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean));
  for (const r of remove) cur.delete(r);
  for (const a of add) if (a) cur.add(a);
  if (cur.size) el.setAttribute("aria-describedby", [...cur].join(" "));
  else el.removeAttribute("aria-describedby");
}
