// Small fetch wrapper for the clpr JSON API. Every failure becomes an ApiError with
// {status, code, message, field, fields, details, retryAfter}; `message` is always
// something a person can read (the server's Russian text, or our own fallback).

import { T, lang } from "./texts.js";

export class ApiError extends Error {
  constructor({ status = 0, code = "error", message = T.errors.generic, field = null, fields = [], details = {}, retryAfter = null }) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    this.fields = fields;
    this.details = details; // the whole `error` object (attempts_left, claim, …)
    this.retryAfter = retryAfter; // seconds, from Retry-After
  }
}

function fallbackMessage(status) {
  if (status === 0) return T.errors.network;
  if (status === 401) return T.errors.sessionExpired;
  if (status === 403) return T.errors.forbidden;
  if (status === 404 || status === 405 || status === 501 || status >= 500) return T.errors.unavailable;
  return T.errors.generic;
}

function parseRetryAfter(res) {
  const v = res.headers.get("Retry-After");
  if (!v) return null;
  const n = Number(v);
  if (Number.isFinite(n)) return Math.max(0, Math.ceil(n));
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

export async function request(method, path, body) {
  const init = {
    method,
    credentials: "same-origin",
    // The page's language: the server words its answers (catalog, confirmation page) in it.
    headers: { Accept: "application/json", "Accept-Language": lang },
    cache: "no-store",
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError({ status: 0, code: "network_error", message: T.errors.network });
  }
  if (res.status === 204) return null;
  const isJson = (res.headers.get("Content-Type") || "").includes("application/json");
  let data = null;
  if (isJson) {
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
  }
  if (res.ok) {
    if (data === null) throw new ApiError({ status: res.status, code: "bad_response", message: T.errors.unavailable });
    return data;
  }
  const err = data && typeof data.error === "object" && data.error ? { ...data.error } : {};
  if (!err.claim && data && data.claim) err.claim = data.claim;
  const code = typeof err.code === "string" ? err.code : res.status === 401 ? "unauthenticated" : "http_error";
  // The server's messages are Russian; a catalog in another language words the ones it knows by code.
  const own = T.apiErrors && T.apiErrors[code];
  throw new ApiError({
    status: res.status,
    code,
    message: own || (typeof err.message === "string" && err.message ? err.message : fallbackMessage(res.status)),
    field: typeof err.field === "string" ? err.field : null,
    fields: Array.isArray(err.fields) ? err.fields.filter((f) => f && typeof f.field === "string") : [],
    details: err,
    retryAfter: parseRetryAfter(res),
  });
}

const enc = encodeURIComponent;

export const api = {
  requestCode: (phone) => request("POST", "/api/v1/auth/phone", { phone }),
  verifyCode: (phone, code) => request("POST", "/api/v1/auth/phone/verify", { phone, code }),
  telegramLogin: (initData) => request("POST", "/api/v1/auth/telegram", { init_data: initData }),
  logout: () => request("POST", "/api/v1/auth/logout"),
  me: () => request("GET", "/api/v1/me"),
  claimTypes: () => request("GET", "/api/v1/claim-types"),
  drafts: () => request("GET", "/api/v1/claims/drafts"),
  claims: () => request("GET", "/api/v1/claims"),
  createClaim: (typeCode) => request("POST", "/api/v1/claims", { type_code: typeCode }),
  claim: (id) => request("GET", `/api/v1/claims/${enc(id)}`),
  documents: (id) => request("GET", `/api/v1/claims/${enc(id)}/documents`),
  saveDraft: (id, answers, revision) => request("PUT", `/api/v1/claims/${enc(id)}/draft`, { answers, revision }),
  submitWizard: (id, answers, revision) => request("POST", "/api/v1/claims/wizard", { claim_id: id, answers, revision }),
  telegramNotice: (id) => request("GET", `/api/v1/claims/${enc(id)}/telegram-notice`),
  askTelegramNotice: (id, submissionId) =>
    request("PUT", `/api/v1/claims/${enc(id)}/telegram-notice`, { submission_id: submissionId }),
  saveStep: (id, step) => request("PUT", `/api/v1/claims/${enc(id)}/step`, { step }),
  confirm: (id, submissionId) => request("POST", `/api/v1/claims/${enc(id)}/confirm`, { submission_id: submissionId }),
  cancel: (id, submissionId) => request("POST", `/api/v1/claims/${enc(id)}/cancel`, { submission_id: submissionId }),
  confirmationUrl: (id, nonce) => `/api/v1/claims/${enc(id)}/confirmation?render=${enc(nonce)}&lang=${enc(lang)}`,
};
