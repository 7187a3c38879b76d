"""Telegram in a real browser: the Mini App signs in with Telegram's launch data (no phone code) and sees the drafts
of the web user it was linked to; stale launch data falls back to the phone login; answers holding <script> and
<img onerror> stay inert text."""

import hashlib
import hmac
import json
import time
import urllib.parse
import urllib.request

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from test_flow import css, log_in, step

BOT_TOKEN = "123456789:AAbrowser-test-token"
WEBHOOK_SECRET = "browser-webhook-secret"
TELEGRAM_ENV = {
    "CLPR_TELEGRAM_BOT_TOKEN": BOT_TOKEN,
    "CLPR_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
    # Nothing listens there: the bot's replies fail and are logged, the webhook still answers at once.
    "CLPR_TELEGRAM_API_URL": "http://127.0.0.1:9",
}


def init_data(telegram_id, auth_date=None):
    """initData signed as Telegram signs it (the data-check string over raw values, HMAC keyed by WebAppData)."""
    user = json.dumps({"id": telegram_id, "first_name": "Иван", "username": "ivan_tg",
                       "photo_url": "https://t.me/i/userpic/320/x.svg"}, ensure_ascii=False)
    user = user.replace("/", "\\/")  # Telegram escapes slashes; the signature covers the raw text
    fields = {"auth_date": str(auth_date or int(time.time())), "query_id": "AAHdF6IQAAAAAN0XohDhrOrc", "user": user}
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", BOT_TOKEN.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urllib.parse.urlencode(fields)


def launch_url(server, data):
    return (server.base + "/#tgWebAppData=" + urllib.parse.quote(data, safe="")
            + "&tgWebAppVersion=7.10&tgWebAppPlatform=android")


def post(server, path, body, headers=None, cookie=None):
    request = urllib.request.Request(server.base + path, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    if cookie:
        request.add_header("Cookie", cookie)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read() or b"null"), response.headers.get_all("Set-Cookie") or []


def web_login(server, phone):
    post(server, "/api/v1/auth/phone", {"phone": phone})
    _, _, cookies = post(server, "/api/v1/auth/phone/verify", {"phone": phone, "code": server.latest_code()})
    return cookies[0].split(";")[0]


def test_mini_app_signs_in_without_a_code_and_sees_the_linked_web_drafts(database_env, server_factory, browser):
    server = server_factory(**TELEGRAM_ENV, **database_env)
    cookie = web_login(server, "+79161234567")
    status, _, _ = post(server, "/api/v1/claims", {"type_code": "property"}, cookie=cookie)
    assert status == 201
    web_me = json.loads(urllib.request.urlopen(urllib.request.Request(
        server.base + "/api/v1/me", headers={"Cookie": cookie}), timeout=10).read())
    codes_before = server.codes_seen()

    # The person shares their own number with the bot (without "+", as Telegram sends it).
    update = {"update_id": 1, "message": {"message_id": 1, "date": int(time.time()),
              "chat": {"id": 700001, "type": "private"}, "from": {"id": 700001, "is_bot": False, "first_name": "Иван"},
              "contact": {"phone_number": "79161234567", "first_name": "Иван", "user_id": 700001}}}
    # The Mini App was opened once before linking: the Telegram user exists on its own.
    assert post(server, "/api/v1/auth/telegram", {"init_data": init_data(700001)})[0] == 200
    status, answer, _ = post(server, "/api/v1/telegram/webhook", update,
                             headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
    # Telegram user and web user both exist now: merged into the web user's unified_id.
    assert status == 200 and answer["outcome"] == "merged", answer

    launch = init_data(700001)
    browser.get(launch_url(server, launch))
    step(browser, "home")
    assert "tgWebAppData" not in browser.current_url  # the credential does not stay in the address
    drafts = browser.find_elements("css selector", ".draft-item")
    assert len(drafts) == 1 and "Ущерб имуществу" in drafts[0].text
    assert server.codes_seen() == codes_before  # no phone code was needed
    me = browser.execute_script("const r = await fetch('/api/v1/me'); return await r.json();")
    assert me["unified_id"] == web_me["unified_id"] and me["phone"] == "+79161234567"

    # The server's log holds no token, secret, launch data, session or full phone (codes: the dev sender only).
    log = server.log_path.read_text(encoding="utf-8")
    launch_hash = urllib.parse.parse_qs(launch)["hash"][0]
    for secret in (BOT_TOKEN, BOT_TOKEN.split(":")[1], WEBHOOK_SECRET, launch_hash, "9161234567", cookie.split("=")[1]):
        assert secret not in log, secret


def test_stale_launch_data_falls_back_to_the_phone_login(server_factory, browser):
    server = server_factory(**TELEGRAM_ENV)
    browser.get(launch_url(server, init_data(700002, auth_date=int(time.time()) - 25 * 3600)))
    step(browser, "login")
    assert "устарели" in css(browser, ".notice").text
    assert "tgWebAppData" not in browser.current_url


def test_script_and_img_answers_stay_inert_text(server_factory, browser):
    server = server_factory()
    log_in(browser, server)
    hostile = '<script>window.__xss=1;alert(1)</script><img src=x onerror="window.__xss=2;alert(2)">'
    claim_id = browser.execute_script(
        """
        const post = await fetch('/api/v1/claims', {method: 'POST', headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({type_code: 'travel'})});
        const claim = await post.json();
        const put = await fetch('/api/v1/claims/' + claim.claim_id + '/draft', {method: 'PUT',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({answers: {description: arguments[0], trip_country: arguments[0]}, revision: claim.revision})});
        if (!put.ok) throw new Error('draft not saved: ' + put.status);
        return claim.claim_id;
        """,
        hostile,
    )
    for path in ("/", f"/claims/{claim_id}/check"):
        browser.get(server.base + "/#" + path)
        time.sleep(0.5)
        try:
            WebDriverWait(browser, 1).until(expected_conditions.alert_is_present())
            raise AssertionError("a dialog opened: the answer ran as script")
        except TimeoutException:
            pass
        assert browser.execute_script("return window.__xss") is None
        requested = browser.execute_script(
            "return performance.getEntriesByType('resource').filter(e => new URL(e.name).pathname === '/x').length")
        assert requested == 0
    assert hostile in css(browser, "main").text  # shown as the text it is
