// The text catalog of the page's language. One file per language in ./i18n/ with the same keys; Russian is the
// default and fills in any key another language lacks (so a new string only has to exist in ru.js to work).
//
// The language: the person's choice from the header switch (kept in localStorage), else the first of the
// browser's languages (navigator.languages, which the browser also sends as Accept-Language) that we have,
// else Russian. API calls send it as Accept-Language, so the server answers in the same language.

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

export function chooseLanguage(choice, browserLanguages) {
  if (supported(choice)) return supported(choice);
  for (const tag of browserLanguages || []) {
    const lang = supported(tag);
    if (lang) return lang;
  }
  return "ru";
}

export const lang = chooseLanguage(stored(), typeof navigator !== "undefined" ? navigator.languages : []);

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

// Stores the choice and shows the same page again in that language.
export function setLanguage(next) {
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch (e) {
    // storage disabled: the choice lasts for this page load only
  }
  location.reload();
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
