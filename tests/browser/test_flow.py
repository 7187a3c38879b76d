"""The whole claim flow in a real browser (Chromium), against a real clpr server: on the embedded default (SQLite)
and on PostgreSQL (`database_env`)."""

import subprocess
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from documents_ui import send_documents

# A realistic travel-insurance claim, including text that must stay inert wherever it is shown.
TRAVEL_ANSWERS = {
    "policy_number": "ВЗР-2026-0012345",
    "event_kind": "medical",
    "trip_country": "Турция",
    "trip_start": "2026-11-20",
    "event_date": "2026-11-25",
    "description": 'В отеле «Лара» поднялась температура 39,2 °C, вызвали врача. <img src=x onerror="window.__xss=1">',
    "expenses": "12 345,67",
    "contacted_assistance": "yes",
}


def step(driver, name, timeout=15):
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.getElementById('main').dataset.step") == name
    )


def css(driver, selector):
    return driver.find_element(By.CSS_SELECTOR, selector)


def visible(driver, element_id):
    # getElementById, not a CSS selector: ids built from answer values may hold any character.
    element = driver.execute_script("return document.getElementById(arguments[0])", element_id)
    if element is None:
        return None
    return element if element.is_displayed() or element.get_attribute("type") == "radio" else None


def fill_visible_questions(driver, answers):
    """Fills every question of the current wizard page that has an answer in `answers`."""
    filled = 0
    for key, value in answers.items():
        radio = visible(driver, f"q-{key}-{value}")
        if radio is not None:
            driver.execute_script("document.querySelector(`label[for='${arguments[0]}']`).click()", f"q-{key}-{value}")
            filled += 1
            continue
        field = visible(driver, f"q-{key}")
        if field is None:
            continue
        kind = field.get_attribute("type")
        if field.tag_name == "select" or kind == "date":
            # Native date pickers take keys in the browser's locale; set the ISO value as the picker would.
            driver.execute_script(
                "arguments[0].value = arguments[1];"
                "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
                "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
                field,
                value,
            )
        else:
            field.clear()
            field.send_keys(value)
        filled += 1
    return filled


def log_in(driver, server, phone_as_typed="8 (916) 123-45-67"):
    driver.get(server.base + "/")
    step(driver, "login")
    css(driver, "#phone").send_keys(phone_as_typed)
    css(driver, "#send-code").click()
    step(driver, "code")
    assert "+7 916 123-45-67" in css(driver, "#code-sent").text
    css(driver, "#code").send_keys(server.latest_code())
    css(driver, "#verify-code").click()
    step(driver, "home")


def test_person_files_a_claim_from_phone_to_claim_accepted(database_env, server_factory, browser):
    # The planner takes 4 s so the test can reload the page while waiting for the plan.
    server = server_factory(CLPR_PLANNER_DELAY_MS="4000", **database_env)
    log_in(browser, server)

    # Start a travel claim.
    css(browser, "#new-claim").click()
    step(browser, "type")
    css(browser, "label[for='type-travel']").click()
    css(browser, "#start-wizard").click()
    step(browser, "wizard")
    assert "Шаг 1 из" in css(browser, "#progress").text

    # Answer page by page; every page must take at least one answer.
    for _ in range(10):
        assert fill_visible_questions(browser, TRAVEL_ANSWERS) > 0
        css(browser, "#next").click()
        time.sleep(0.3)
        if browser.execute_script("return document.getElementById('main').dataset.step") == "check":
            break
    step(browser, "check")
    summary = css(browser, "#answers").text
    assert "Турция" in summary and "25.11.2026" in summary and "Болезнь или травма" in summary

    # The draft was autosaved with every answer (the server is the source of truth, not the page).
    claim_id = browser.current_url.split("/claims/")[1].split("/")[0]
    saved = browser.execute_script(
        "const r = await fetch('/api/v1/claims/' + arguments[0]); return await r.json();", claim_id
    )
    assert saved["answers"]["trip_country"] == "Турция"
    assert saved["status"] == "draft"

    # Submit, then reload while waiting: the plan must still arrive over SSE.
    css(browser, "#submit-claim").click()
    step(browser, "wait")
    assert css(browser, "#wait-status").text.strip()
    time.sleep(1.2)
    assert "Прошло" in css(browser, "#elapsed").text
    browser.refresh()
    step(browser, "wait")
    step(browser, "confirm", timeout=20)

    # The confirmation form is the server's document in a sandboxed iframe.
    frame = css(browser, "iframe#confirmation-frame")
    assert "allow-scripts" in frame.get_attribute("sandbox")
    assert "allow-same-origin" not in frame.get_attribute("sandbox")
    browser.switch_to.frame(frame)
    page = css(browser, "main").text
    assert "Заявление о страховом случае в поездке" in page
    assert "Медицинское заключение" in page  # required because the event is medical
    assert '<img src=x onerror="window.__xss=1">' in page  # shown as text, not run
    assert browser.find_elements(By.CSS_SELECTOR, "main img") == []
    css(browser, "#confirm").click()
    browser.switch_to.default_content()

    # The plan lists documents: they are uploaded and sent (tests/browser/test_documents.py covers the step).
    send_documents(browser, step)

    # Done: the claim number and its status.
    step(browser, "done")
    assert css(browser, "#claim-number").text.strip()
    assert "В работе" in css(browser, "#claim-status").text
    assert browser.execute_script("return window.__xss") is None
    if database_env:
        # The claim really lives in PostgreSQL, with the person's unified_id.
        rows = subprocess.run(
            ["psql", "-At", database_env["CLPR_DATABASE_URL"], "-c",
             "SELECT status_code || '|' || (unified_id LIKE 'usr_%') FROM clpr_claims"],
            capture_output=True, text=True, check=True,
        ).stdout.split()
        assert rows == ["in_work|true"]

    # Reopening the site with the same phone: the claim is listed with its status, no longer a draft.
    browser.delete_all_cookies()
    log_in(browser, server, phone_as_typed="+7 916 1234567")
    claims = browser.find_elements(By.CSS_SELECTOR, ".claim-item")
    assert len(claims) == 1 and "В работе" in claims[0].text
    assert browser.find_elements(By.CSS_SELECTOR, ".draft-item") == []


def test_draft_is_resumed_after_logging_in_again(database_env, server_factory, browser):
    server = server_factory(**database_env)
    log_in(browser, server)
    css(browser, "#new-claim").click()
    step(browser, "type")
    css(browser, "label[for='type-property']").click()
    css(browser, "#start-wizard").click()
    step(browser, "wizard")
    css(browser, "#q-policy_number").send_keys("ИМ-2026-000123")
    WebDriverWait(browser, 10).until(lambda d: "Сохранено" in css(d, "#save-status").text)

    browser.delete_all_cookies()
    log_in(browser, server, phone_as_typed="79161234567")
    drafts = browser.find_elements(By.CSS_SELECTOR, ".draft-item")
    assert len(drafts) == 1 and "Ущерб имуществу" in drafts[0].text
    drafts[0].find_element(By.CSS_SELECTOR, ".resume-draft").click()
    step(browser, "wizard")
    WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.ID, "q-policy_number") == []
        or css(d, "#q-policy_number").get_attribute("value") == "ИМ-2026-000123"
    )


def test_plan_timeout_offers_retry_and_keeps_the_answers(server_factory, browser):
    server = server_factory(CLPR_PLANNER="none", CLPR_PLAN_TIMEOUT_S="2")
    log_in(browser, server)
    claim = browser.execute_script(
        """
        const r = await fetch('/api/v1/claims/wizard', {method: 'POST', headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({type_code: 'travel', answers: arguments[0]})});
        return await r.json();
        """,
        {k: v for k, v in TRAVEL_ANSWERS.items()},
    )
    browser.get(server.base + f"/#/claims/{claim['claim_id']}/wait")
    step(browser, "wait")
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "retry"))
    assert css(browser, "#retry").is_displayed()
    saved = browser.execute_script(
        "const r = await fetch('/api/v1/claims/' + arguments[0]); return await r.json();", claim["claim_id"]
    )
    assert saved["status"] == "draft" and saved["answers"]["trip_country"] == "Турция"
