// Small sessionStorage-backed state that must survive a reload of the tab:
// the phone waiting for its code, and where to go after signing in.

function read(key) {
  try {
    const v = sessionStorage.getItem(key);
    return v ? JSON.parse(v) : null;
  } catch (e) {
    return null;
  }
}

function write(key, value) {
  try {
    if (value === null || value === undefined) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, JSON.stringify(value));
  } catch (e) {
    // storage may be disabled (private mode); the flow still works within one page load
  }
}

const memory = {};

function store(key) {
  return {
    get: () => read(key) ?? memory[key] ?? null,
    set: (v) => { memory[key] = v; write(key, v); },
    clear: () => { delete memory[key]; write(key, null); },
  };
}

// {phone: "+7916…", display_phone, expires_in, resend_at (ms epoch), typed}
export const pendingLogin = store("clpr.login");
// "/claims/…/step/2"
export const returnTo = store("clpr.returnTo");
// claim id confirmed in this tab: its page shows the «Заявка принята» panel
export const justConfirmed = store("clpr.justConfirmed");
