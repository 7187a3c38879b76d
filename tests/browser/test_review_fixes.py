"""Browser tests for the new-user review: stale plans, autosave from two tabs, the confirmation frame's height on a
phone, date rules on their own step, the wrong-code message, telling drafts apart. Real Chromium, real clpr
(embedded SQLite store)."""

import datetime
import re
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from documents_ui import send_documents
from test_flow import TRAVEL_ANSWERS, css, fill_visible_questions, log_in, step


def api(driver, method, path, body=None):
    """Calls the JSON API from the page (with its session cookie): {"status": …, "body": …}."""
    return driver.execute_script(
        """
        const init = {method: arguments[0], headers: {Accept: 'application/json'}};
        if (arguments[2] !== null) {
            init.headers['Content-Type'] = 'application/json';
            init.body = JSON.stringify(arguments[2]);
        }
        const r = await fetch(arguments[1], init);
        const text = await r.text();
        return {status: r.status, body: text ? JSON.parse(text) : null};
        """,
        method, path, body,
    )


def submitted_claim(driver, answers=TRAVEL_ANSWERS):
    r = api(driver, "POST", "/api/v1/claims/wizard", {"type_code": "travel", "answers": answers})
    assert r["status"] == 202, r
    return r["body"]["claim_id"]


def stored(driver, claim_id):
    return api(driver, "GET", f"/api/v1/claims/{claim_id}")["body"]


def main_text(driver):
    return css(driver, "#main").text


def click_in_frame(driver, element_id):
    driver.switch_to.frame(css(driver, "iframe#confirmation-frame"))
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, element_id))
    css(driver, "#" + element_id).click()
    driver.switch_to.default_content()


def frame_text(driver):
    driver.switch_to.frame(css(driver, "iframe#confirmation-frame"))
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "confirm"))
    text = css(driver, "main").text
    driver.switch_to.default_content()
    return text


def test_edited_claim_is_sent_again_and_the_old_plan_is_never_offered(server_factory, browser):
    server = server_factory(CLPR_PLANNER_DELAY_MS="300")
    log_in(browser, server)
    claim_id = submitted_claim(browser)
    browser.get(server.base + f"/#/claims/{claim_id}/wait")
    step(browser, "confirm", timeout=20)
    assert "Турция" in frame_text(browser)

    # 1. The person goes back to the answers and changes one: the claim's plan no longer applies.
    css(browser, "#back-to-answers").click()
    step(browser, "check")
    css(browser, "#change-trip_country").click()
    step(browser, "wizard")
    field = css(browser, "#q-trip_country")
    field.clear()
    field.send_keys("Грузия")
    css(browser, "#next").click()
    step(browser, "check")
    WebDriverWait(browser, 10).until(lambda d: stored(d, claim_id)["answers"]["trip_country"] == "Грузия")
    claim = stored(browser, claim_id)
    assert claim["plan_is_current"] is False

    # Opening the old confirmation address leads to the check page with an explanation, not to the old plan.
    browser.get(server.base + f"/#/claims/{claim_id}/confirm")
    step(browser, "check")
    assert "отправьте заявку ещё раз" in css(browser, "#claim-notice").text
    assert browser.find_elements(By.ID, "confirmation-frame") == []

    # 2. Send again: the new plan, with the new answer, is the one confirmed.
    css(browser, "#submit-claim").click()
    step(browser, "confirm", timeout=20)
    page = frame_text(browser)
    assert "Грузия" in page and "Турция" not in page

    # 3. Meanwhile another tab changes an answer: confirming the plan on screen is refused gracefully.
    rev = stored(browser, claim_id)["revision"]
    r = api(browser, "PUT", f"/api/v1/claims/{claim_id}/draft",
            {"answers": {**stored(browser, claim_id)["answers"], "trip_country": "Армения"}, "revision": rev})
    assert r["status"] == 200, r
    click_in_frame(browser, "confirm")
    step(browser, "check")
    assert "отправьте заявку ещё раз" in css(browser, "#claim-notice").text
    assert "Армения" in css(browser, "#answers").text  # the stored answers, not the old copy
    assert stored(browser, claim_id)["status"] == "draft"

    css(browser, "#submit-claim").click()
    step(browser, "confirm", timeout=20)
    assert "Армения" in frame_text(browser)
    click_in_frame(browser, "confirm")
    send_documents(browser, step)
    claim = stored(browser, claim_id)
    assert claim["status"] == "in_work" and claim["answers"]["trip_country"] == "Армения"
    assert "Проверьте данные и подтвердите" not in main_text(browser)


def field_value(driver, qid):
    return driver.execute_script("return document.getElementById(arguments[0]).value", "q-" + qid)


def test_two_tabs_autosaving_one_draft_end_up_showing_what_the_server_stores(server_factory, browser):
    server = server_factory()
    log_in(browser, server)
    created = api(browser, "POST", "/api/v1/claims", {"type_code": "travel"})
    claim_id = created["body"]["claim_id"]
    url = server.base + f"/#/claims/{claim_id}/step/1"
    browser.get(url)
    step(browser, "wizard")
    tab_a = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.get(url)
    step(browser, "wizard")
    time.sleep(0.5)

    # Another device saves the policy number; then the person types in tab B, which still has the old revision:
    # its save meets a revision conflict.
    rev = stored(browser, claim_id)["revision"]
    r = api(browser, "PUT", f"/api/v1/claims/{claim_id}/draft",
            {"answers": {"policy_number": "ВЗР-A-111"}, "revision": rev})
    assert r["status"] == 200, r
    css(browser, "#q-trip_country").send_keys("Турция")
    # B keeps the just-typed text, takes the other device's policy number, and saves the combination.
    WebDriverWait(browser, 10).until(
        lambda d: stored(d, claim_id)["answers"].get("trip_country") == "Турция"
        and "Сохранено" in css(d, "#save-status").text
    )
    assert "вместе с вашими последними правками" in css(browser, "#claim-notice").text
    assert stored(browser, claim_id)["answers"] == {"policy_number": "ВЗР-A-111", "trip_country": "Турция"}
    assert field_value(browser, "policy_number") == "ВЗР-A-111"
    assert field_value(browser, "trip_country") == "Турция"

    # Tab A learns about B's save and shows exactly what the server stores.
    browser.switch_to.window(tab_a)
    WebDriverWait(browser, 10).until(
        lambda d: field_value(d, "policy_number") == "ВЗР-A-111" and field_value(d, "trip_country") == "Турция"
    )
    assert "изменили в другой вкладке" in css(browser, "#claim-notice").text

    # Now A edits the same field: B follows.
    css(browser, "#q-policy_number").send_keys("-2")
    WebDriverWait(browser, 10).until(lambda d: stored(d, claim_id)["answers"].get("policy_number") == "ВЗР-A-111-2")
    browser.switch_to.window(tab_b := browser.window_handles[1])
    final = stored(browser, claim_id)["answers"]
    for tab in (tab_b, tab_a):
        browser.switch_to.window(tab)
        WebDriverWait(browser, 10).until(
            lambda d: field_value(d, "policy_number") == final["policy_number"]
            and field_value(d, "trip_country") == final["trip_country"]
        )
        assert "Сохранено" in css(browser, "#save-status").text or css(browser, "#save-status").text == ""


def phone_screen(driver):
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 360, "height": 640, "deviceScaleFactor": 1, "mobile": True}
    )


def full_page_screenshot(driver, path):
    import base64

    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {"format": "png", "captureBeyondViewport": True,
         "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}},
    )
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def test_confirmation_frame_shows_the_whole_document_on_a_phone(server_factory, browser):
    server = server_factory(CLPR_PLANNER_DELAY_MS="300")
    phone_screen(browser)
    log_in(browser, server)
    claim_id = submitted_claim(browser)
    browser.get(server.base + f"/#/claims/{claim_id}/wait")
    step(browser, "confirm", timeout=20)
    frame = css(browser, "iframe#confirmation-frame")
    # The frame's document reports its height on load and resize; the page settles on it.
    WebDriverWait(browser, 10).until(lambda d: frame.get_attribute("data-settled") == "true")

    outer = browser.execute_script("return arguments[0].clientHeight", frame)
    browser.switch_to.frame(frame)
    inner = browser.execute_script(
        "const b = document.getElementById('confirm').getBoundingClientRect();"
        "return {scroll: document.documentElement.scrollHeight, view: window.innerHeight, bottom: b.bottom,"
        " scrollable: document.documentElement.scrollHeight > window.innerHeight};"
    )
    browser.switch_to.default_content()
    assert outer >= inner["scroll"], (outer, inner)
    assert inner["bottom"] <= inner["view"] and not inner["scrollable"], inner
    assert inner["scroll"] > 640  # the document really is longer than the screen

    full_page_screenshot(browser, "/tmp/webfix-confirm.png")
    browser.execute_script("document.getElementById('confirmation-frame').scrollIntoView({block: 'end'})")
    browser.save_screenshot("/tmp/webfix-confirm-bottom.png")

    click_in_frame(browser, "confirm")
    send_documents(browser, step)
    text = main_text(browser)
    assert "Заявка принята" in text
    assert "Проверьте данные и подтвердите" not in text
    assert "Подтвердите заявление" not in css(browser, "#next-steps").text
    # Uploading exists now (the documents step came before this page): no "not yet" note.
    assert browser.find_elements(By.ID, "upload-note") == []
    full_page_screenshot(browser, "/tmp/webfix-done.png")


def test_future_event_date_is_refused_on_its_own_step(server_factory, browser):
    server = server_factory()
    log_in(browser, server)
    created = api(browser, "POST", "/api/v1/claims", {"type_code": "travel"})
    claim_id = created["body"]["claim_id"]
    browser.get(server.base + f"/#/claims/{claim_id}/step/1")
    step(browser, "wizard")
    fill_visible_questions(browser, TRAVEL_ANSWERS)
    css(browser, "#next").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, "q-event_date"))

    today = datetime.date.today()
    event = css(browser, "#q-event_date")
    assert event.get_attribute("max") in (today.isoformat(), (today + datetime.timedelta(days=1)).isoformat())
    hint = css(browser, "#q-event_date-hint").text
    # Chromium's date control types in its locale's order: the hint names no format of its own.
    assert event.get_attribute("type") == "date"
    assert hint.count("Выберите дату в календаре или введите её") == 1
    assert "03.12.2026" not in hint

    future = (today + datetime.timedelta(days=5)).isoformat()
    fill_visible_questions(browser, {"trip_start": "2026-11-20", "event_date": future})
    css(browser, "#next").click()
    WebDriverWait(browser, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".error-summary"))
    assert "q-event_date" in browser.current_url or browser.find_elements(By.ID, "q-event_date")
    message = "«Дата события» не может быть в будущем"
    assert message in css(browser, ".error-summary").text
    assert message in css(browser, "#q-event_date-error").text
    assert browser.title.startswith("Ошибка: ")

    # Not before the trip started either, with the trip's date named.
    fill_visible_questions(browser, {"event_date": "2026-11-10"})
    css(browser, "#next").click()
    message = "«Дата события» не может быть раньше, чем «Дата начала поездки» (20.11.2026)"
    WebDriverWait(browser, 5).until(lambda d: message in css(d, ".error-summary").text)
    assert message in css(browser, "#q-event_date-error").text

    fill_visible_questions(browser, {"event_date": "2026-11-25"})
    css(browser, "#next").click()
    WebDriverWait(browser, 5).until(lambda d: not d.find_elements(By.ID, "q-event_date"))

    # The money question: the catalog's hint and ours as two sentences, not run together.
    for _ in range(5):
        if browser.find_elements(By.ID, "q-expenses"):
            break
        fill_visible_questions(browser, TRAVEL_ANSWERS)
        css(browser, "#next").click()
        time.sleep(0.3)
    lines = [e.text.replace("\u00a0", " ") for e in browser.find_elements(By.CSS_SELECTOR, "#q-expenses-hint .hint__line")]
    assert lines == ["Если расходов не было, укажите 0.", "Сумма в рублях, например 12 345,67"], lines


def test_wrong_code_says_how_many_attempts_are_left_once(server_factory, browser):
    server = server_factory()
    browser.get(server.base + "/")
    step(browser, "login")
    css(browser, "#phone").send_keys("+7 916 123-45-67")
    css(browser, "#send-code").click()
    step(browser, "code")
    real = server.latest_code()
    css(browser, "#code").send_keys("000000" if real != "000000" else "111111")
    css(browser, "#verify-code").click()
    WebDriverWait(browser, 5).until(lambda d: d.find_elements(By.ID, "code-error"))
    text = css(browser, "#code-error").text
    assert re.search(r"Неверный код\. Осталось 4 попытки\.$", text), text
    assert css(browser, ".error-summary").text.count("Осталось") == 1


def test_drafts_of_one_type_can_be_told_apart(server_factory, browser):
    server = server_factory()
    log_in(browser, server)
    for policy in ("ВЗР-111", "ВЗР-222"):
        claim = api(browser, "POST", "/api/v1/claims", {"type_code": "travel"})["body"]
        r = api(browser, "PUT", f"/api/v1/claims/{claim['claim_id']}/draft",
                {"answers": {"policy_number": policy, "event_date": "2026-11-25"}, "revision": claim["revision"]})
        assert r["status"] == 200, r
    browser.refresh()
    step(browser, "home")
    items = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".draft-item")]
    assert len(items) == 2 and items[0] != items[1]
    assert any("ВЗР-111" in t for t in items) and any("ВЗР-222" in t for t in items)
    assert all("Создан " in t and "25.11.2026" in t for t in items)


def test_failed_confirm_shows_the_error_and_a_fresh_form_to_try_again(server_factory, browser):
    server = server_factory(CLPR_PLANNER_DELAY_MS="300")
    log_in(browser, server)
    claim_id = submitted_claim(browser)
    browser.get(server.base + f"/#/claims/{claim_id}/wait")
    step(browser, "confirm", timeout=20)
    first_src = css(browser, "#confirmation-frame").get_attribute("src")
    # The next confirm request fails as if the network dropped.
    browser.execute_script(
        """
        const real = window.fetch;
        window.fetch = (url, init) => {
            if (String(url).endsWith('/confirm') && init && init.method === 'POST') {
                window.fetch = real;
                return Promise.reject(new TypeError('offline'));
            }
            return real(url, init);
        };
        """
    )
    click_in_frame(browser, "confirm")
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".error-summary"))
    assert "Не удалось связаться с сервером" in css(browser, ".error-summary").text
    assert browser.title.startswith("Ошибка: ")
    # A new document (new render nonce) whose button works again.
    WebDriverWait(browser, 10).until(lambda d: css(d, "#confirmation-frame").get_attribute("src") != first_src)
    browser.switch_to.frame(css(browser, "iframe#confirmation-frame"))
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, "confirm") and css(d, "#confirm").is_enabled())
    browser.switch_to.default_content()
    assert stored(browser, claim_id)["status"] == "draft"
    click_in_frame(browser, "confirm")
    send_documents(browser, step)
    assert stored(browser, claim_id)["status"] == "in_work"
