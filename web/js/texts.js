// The text catalog of the page's language. One file per language in ./i18n/ with the same keys; Russian is the
// default and fills in any key another language lacks (so a new string only has to exist in ru.js to work).
//
// The language: one named in the page's address (`?lang=en`, kept like the switch's choice), else the person's
// choice from the header switch (kept in localStorage), else the first of the browser's languages
// (navigator.languages, which the browser also sends as Accept-Language) that we have, else Russian. API calls
// send it as Accept-Language, so the server answers in the same language.

import ru, { plural as ruPlural } from "./i18n/ru.js";
import en from "./i18n/en.js";

export const CATALOGS = { ru, en };
const STORAGE_KEY = "clpr.lang";

function supported(tag) {
  const primary = String(tag || "").toLowerCase().split(/[-_]/)[0];
  return Object.prototype.hasOwnProperty.call(CATALOGS, primary) ? primary : null;
}

function stored() {
  try {
    return supported(localStorage.getItem(STORAGE_KEY));
  } catch (e) {
    return null;
  }
}

function remember(choice) {
  try {
    localStorage.setItem(STORAGE_KEY, choice);
  } catch (e) {
    // storage disabled: the choice lasts for this page load only
  }
}

// `?lang=en` / `?lang=ru` in the page's address (before the #): chosen and kept as the switch does; anything else
// there is ignored.
function fromAddress() {
  if (typeof location === "undefined") return null;
  const choice = supported(new URLSearchParams(location.search).get("lang"));
  if (choice) remember(choice);
  return choice;
}

export function chooseLanguage(choice, browserLanguages) {
  if (supported(choice)) return supported(choice);
  for (const tag of browserLanguages || []) {
    const lang = supported(tag);
    if (lang) return lang;
  }
  return "ru";
}

export const lang = chooseLanguage(fromAddress() || stored(), typeof navigator !== "undefined" ? navigator.languages : []);

// Deep merge: `over` wins, `base` fills the gaps.
function merged(base, over) {
  if (!over || typeof over !== "object" || Array.isArray(over)) return over === undefined ? base : over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = base && typeof base[k] === "object" && !Array.isArray(base[k]) && typeof v === "object" && v && !Array.isArray(v)
      ? merged(base[k], v) : v;
  }
  return out;
}

export const T = lang === "ru" ? ru : merged(ru, CATALOGS[lang]);

// Stores the choice and shows the same page again in that language (an address naming a language is changed to
// name this one, or it would win over the choice).
export function setLanguage(next) {
  remember(next);
  const url = new URL(location.href);
  if (url.searchParams.has("lang")) {
    url.searchParams.set("lang", next);
    location.replace(url.href);
  } else {
    location.reload();
  }
}

// Russian plural form (kept for callers that word Russian text themselves).
export const plural = ruPlural;

// "Неверный код" -> "Неверный код." (so that a following sentence does not run into it).
export function sentence(text) {
  const t = String(text || "").trim();
  return !t || /[.!?…]$/.test(t) ? t : t + ".";
}

// Any status code: its label in this language, else a generic wording with the code.
export function statusText(code) {
  if (!code) return "";
  return (T.status && T.status[code]) || T.statusUnknown(code);
}
