// Formatting and parsing helpers for the page's language: Russian conventions (03.12.2026, 12 345,67 ₽) or
// English ones (3 Dec 2026, 12,345.67 ₽). Phone numbers are Russian in both: +7 916 123-45-67. No DOM.

import { lang } from "./texts.js";

const NBSP = "\u00A0";

function pad2(n) {
  return String(n).padStart(2, "0");
}

// "+79161234567" -> "+7 916 123-45-67"; anything else is returned as given.
export function formatPhone(value) {
  const e164 = normalizePhone(value);
  if (!e164) return value || "";
  const d = e164.slice(2);
  return `+7 ${d.slice(0, 3)} ${d.slice(3, 6)}-${d.slice(6, 8)}-${d.slice(8, 10)}`;
}

// Russian mobile/landline number typed in any common way -> "+7XXXXXXXXXX", or "" if not recognisable.
export function normalizePhone(value) {
  if (!value) return "";
  let d = String(value).replace(/\D/g, "");
  if (d.length === 11 && (d[0] === "7" || d[0] === "8")) d = d.slice(1);
  if (d.length !== 10) return "";
  return "+7" + d;
}

export function phoneDigitsCount(value) {
  return String(value || "").replace(/\D/g, "").length;
}

function parseDate(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

const MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function dayText(y, m, d) {
  return lang === "en" ? `${d} ${MONTHS_EN[m - 1]} ${y}` : `${pad2(d)}.${pad2(m)}.${y}`;
}

// ISO timestamp -> "03.12.2026" / "3 Dec 2026" (local time).
export function formatDate(value) {
  const d = parseDate(value);
  if (!d) return "";
  return dayText(d.getFullYear(), d.getMonth() + 1, d.getDate());
}

// ISO timestamp -> "03.12.2026, 14:05" / "3 Dec 2026, 14:05" (local time).
export function formatDateTime(value) {
  const d = parseDate(value);
  if (!d) return "";
  return `${formatDate(value)}, ${formatTime(value)}`;
}

// ISO timestamp -> "14:05" (local time).
export function formatTime(value) {
  const d = parseDate(value);
  if (!d) return "";
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

// Calendar date answer "2026-12-03" -> "03.12.2026" / "3 Dec 2026" (no time zone shifts).
export function formatDayAnswer(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || "");
  return m ? dayText(m[1], Number(m[2]), Number(m[3])) : value || "";
}

// "2026-12-03" or "03.12.2026" -> "2026-12-03" if it is a real calendar date, else "".
export function parseDayAnswer(value) {
  const s = String(value || "").trim();
  let y, mo, d;
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s);
  if (m) {
    [y, mo, d] = [m[1], m[2], m[3]];
  } else {
    m = /^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$/.exec(s);
    if (!m) return "";
    [d, mo, y] = [m[1], m[2], m[3]];
  }
  const yy = Number(y), mm = Number(mo), dd = Number(d);
  const dt = new Date(Date.UTC(yy, mm - 1, dd));
  if (dt.getUTCFullYear() !== yy || dt.getUTCMonth() !== mm - 1 || dt.getUTCDate() !== dd) return "";
  return `${y.padStart(4, "0")}-${pad2(mm)}-${pad2(dd)}`;
}

// Money typed by a person ("12 345,67", "12345.67 ₽", in English also "12,345.67") -> "12345.67" / "12345",
// or "" if invalid.
export function parseMoney(value) {
  let s = String(value || "").replace(/[\s\u00A0\u202F₽]/g, "").replace(/(руб\.?|rub)$/i, "");
  // English: commas group thousands when a point is there or every comma is followed by three digits.
  if (lang === "en" && (s.includes(".") || /^\d{1,3}(,\d{3})+$/.test(s))) s = s.replace(/,/g, "");
  s = s.replace(",", ".");
  if (!/^\d+(\.\d{1,2})?$/.test(s)) return "";
  return s.replace(/^0+(?=\d)/, "");
}

// "12345.67" -> "12 345,67 ₽" / "12,345.67 ₽".
export function formatMoney(value) {
  const s = parseMoney(value);
  if (!s) return value || "";
  const [int, frac] = s.split(".");
  const [group, point] = lang === "en" ? [",", "."] : [NBSP, ","];
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, group);
  return `${grouped}${frac ? point + frac.padEnd(2, "0") : ""}${NBSP}₽`;
}

// Money answer shown back in its input: "12345.67" -> "12345,67" (English: as stored).
export function moneyForInput(value) {
  return lang === "en" ? String(value || "") : String(value || "").replace(".", ",");
}

// Human claim number: server's `number` if it sends one, else the first 8 hex chars of the id.
export function claimNumber(claim) {
  if (!claim) return "";
  if (claim.number) return String(claim.number);
  return String(claim.claim_id || "").replace(/-/g, "").slice(0, 8).toUpperCase();
}

// 32 hex chars from the CSPRNG, for the confirmation iframe's render nonce.
export function randomHex(bytes = 16) {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
}
