// Telegram Mini App: when Telegram opens the app it puts the signed launch data in the URL
// (#tgWebAppData=…&tgWebAppVersion=…). Only then is Telegram's own script loaded (the one
// outside script the Content-Security-Policy allows), and the person is signed in with that
// signed data instead of a phone code. In an ordinary browser nothing here runs.

import { api } from "./api.js";

const SCRIPT_URL = "https://telegram.org/js/telegram-web-app.js";

// The raw initData from the launch URL, or null outside Telegram.
function launchInitData() {
  const raw = location.hash.replace(/^#/, "");
  if (!raw.includes("tgWebAppData=")) return null;
  return new URLSearchParams(raw).get("tgWebAppData") || null;
}

function loadScript() {
  if (window.Telegram && window.Telegram.WebApp) return Promise.resolve(true);
  return new Promise((resolve) => {
    const s = document.createElement("script");
    s.src = SCRIPT_URL;
    s.async = true;
    s.onload = () => resolve(true);
    s.onerror = () => resolve(false); // the launch data in the URL is enough to sign in
    document.head.append(s);
    setTimeout(() => resolve(false), 5000);
  });
}

// Signs in through Telegram when the app runs inside it. Resolves true when it did,
// false outside Telegram; throws the ApiError of a refused sign-in.
export async function signInWithTelegram() {
  const fromUrl = launchInitData();
  if (!fromUrl) return false;
  await loadScript();
  const webApp = window.Telegram && window.Telegram.WebApp;
  const initData = (webApp && webApp.initData) || fromUrl;
  if (webApp) {
    try {
      webApp.ready();
      webApp.expand();
    } catch (e) {
      // older Telegram clients: the app still works without these
    }
  }
  // The launch data must not stay in the address (it is a credential) nor reach the router.
  history.replaceState(null, "", location.pathname + location.search + "#/");
  await api.telegramLogin(initData);
  return true;
}
