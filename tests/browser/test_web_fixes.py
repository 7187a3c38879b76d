"""Browser tests for the web-fixes branch: the claim page once the documents were sent, the keyboard focus after the
language switch, the language named in the page's address. Real Chromium, real clpr (embedded SQLite store)."""

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from documents_ui import send_documents
from test_experience import active_id, press
from test_flow import css, log_in, step
from test_review_fixes import api, click_in_frame, main_text, stored, submitted_claim


def claim_page(driver, base, claim_id):
    """The claim page as on a later visit (without the «Заявка принята» panel of the tab that confirmed)."""
    driver.execute_script("sessionStorage.removeItem('clpr.justConfirmed')")
    driver.get(base + f"/#/claims/{claim_id}")
    driver.refresh()
    step(driver, "done")


def test_claim_in_work_no_longer_asks_for_documents(server_factory, browser):
    server = server_factory(CLPR_PLANNER_DELAY_MS="300")
    log_in(browser, server)
    claim_id = submitted_claim(browser)
    browser.get(server.base + f"/#/claims/{claim_id}/wait")
    step(browser, "confirm", timeout=20)
    click_in_frame(browser, "confirm")
    step(browser, "documents")

    # Waiting for documents: the claim page asks for them (the plan's upload step, the list to get ready).
    assert stored(browser, claim_id)["status"] == "awaiting_documents"
    claim_page(browser, server.base, claim_id)
    assert browser.find_elements(By.ID, "to-documents")
    assert "Загрузите документы из списка." in css(browser, "#next-steps").text
    assert "Какие документы понадобятся" in main_text(browser)
    assert browser.find_elements(By.CSS_SELECTOR, "#documents .document-item")

    # The documents sent (in work): right after sending, and on a later visit, nothing asks for documents any more.
    browser.get(server.base + f"/#/claims/{claim_id}/documents")
    send_documents(browser, step)
    assert stored(browser, claim_id)["status"] == "in_work"
    for later in (False, True):
        if later:
            claim_page(browser, server.base, claim_id)
        text = main_text(browser)
        assert "В работе" in css(browser, "#claim-status").text
        next_steps = css(browser, "#next-steps").text
        assert "Загрузите" not in next_steps and "Подготовьте документы" not in next_steps, next_steps
        assert "Специалист проверит заявление" in next_steps  # the plan's other steps stay
        assert "Какие документы понадобятся" not in text
        assert browser.find_elements(By.ID, "documents") == []
        assert browser.find_elements(By.ID, "upload-note") == []
        assert browser.find_elements(By.ID, "to-documents") == []
        assert browser.find_elements(By.CSS_SELECTOR, "#uploaded-documents .uploaded-file")  # what was sent

    # The same in English.
    browser.execute_script("localStorage.setItem('clpr.lang', 'en')")
    browser.refresh()
    step(browser, "done")
    text = main_text(browser)
    assert "In progress" in css(browser, "#claim-status").text
    assert "Documents you will need" not in text and "Get the documents listed below ready" not in text
    assert browser.find_elements(By.ID, "documents") == []


def html_lang(driver):
    return driver.execute_script("return document.documentElement.lang")


def test_focus_returns_to_the_language_switch_after_switching(server_factory, browser):
    server = server_factory()
    browser.get(server.base + "/")
    step(browser, "login")
    assert html_lang(browser) == "ru"

    # By keyboard: Enter on the switch; the page comes back in English with the focus on the switch.
    browser.execute_script("document.getElementById('language-switch').focus()")
    press(browser, Keys.ENTER)
    WebDriverWait(browser, 10).until(lambda d: html_lang(d) == "en")
    step(browser, "login")
    assert "Sign in with your phone number" in main_text(browser)
    WebDriverWait(browser, 5).until(lambda d: active_id(d) == "language-switch")
    assert css(browser, "#language-switch").text == "Русский"

    # And back: Enter again (the focus is still there).
    press(browser, Keys.ENTER)
    WebDriverWait(browser, 10).until(lambda d: html_lang(d) == "ru")
    step(browser, "login")
    WebDriverWait(browser, 5).until(lambda d: active_id(d) == "language-switch")
    assert css(browser, "#language-switch").text == "English"

    # Only right after switching: an ordinary reload starts at the top of the page, as before.
    browser.refresh()
    step(browser, "login")
    assert browser.execute_script("return document.activeElement === document.body")

    # A page whose view moves the focus on its own (a wizard question named in the address): after switching,
    # the focus is on the switch, not on the question.
    log_in(browser, server)
    claim_id = api(browser, "POST", "/api/v1/claims", {"type_code": "travel"})["body"]["claim_id"]
    browser.get(server.base + f"/#/claims/{claim_id}/step/1?q=trip_country")
    browser.refresh()
    step(browser, "wizard")
    WebDriverWait(browser, 5).until(lambda d: active_id(d) == "q-trip_country")
    browser.execute_script("document.getElementById('language-switch').focus()")
    press(browser, Keys.ENTER)
    WebDriverWait(browser, 10).until(lambda d: html_lang(d) == "en")
    step(browser, "wizard")
    WebDriverWait(browser, 5).until(lambda d: active_id(d) == "language-switch")
    assert browser.current_url.endswith(f"/claims/{claim_id}/step/1?q=trip_country")


def stored_language(driver):
    return driver.execute_script("return localStorage.getItem('clpr.lang')")


def test_language_named_in_the_address_is_chosen_and_kept(server_factory, browser):
    """The browser prefers Russian (conftest's `browser`); `?lang=` in the address wins, and is kept as the
    switch's choice is."""
    server = server_factory()
    browser.get(server.base + "/?lang=en")
    step(browser, "login")
    assert html_lang(browser) == "en"
    assert "Sign in with your phone number" in main_text(browser)
    assert stored_language(browser) == "en"
    # The page asks the API in English too (the claim types come in the page's language).
    titles = browser.execute_script(
        "const {api} = await import('/js/api.js'); return (await api.claimTypes()).claim_types.map((t) => t.title)")
    assert titles and all(t.isascii() for t in titles), titles

    # Kept: the plain address stays English.
    browser.get(server.base + "/#/login")
    browser.refresh()
    step(browser, "login")
    assert html_lang(browser) == "en" and stored_language(browser) == "en"

    # With a route after the #, and the other language.
    browser.get(server.base + "/?lang=ru#/login")
    step(browser, "login")
    assert html_lang(browser) == "ru" and stored_language(browser) == "ru"
    assert "Войдите по номеру телефона" in main_text(browser)

    # The switch still works on such an address: the address follows the choice, so a reload keeps it.
    css(browser, "#language-switch").click()
    WebDriverWait(browser, 10).until(lambda d: html_lang(d) == "en")
    step(browser, "login")
    assert "lang=en" in browser.current_url and browser.current_url.endswith("#/login")
    assert stored_language(browser) == "en"
    browser.refresh()
    step(browser, "login")
    assert html_lang(browser) == "en"

    # A language the page does not have is ignored: the kept choice stays.
    browser.get(server.base + "/?lang=de#/login")
    browser.refresh()
    step(browser, "login")
    assert html_lang(browser) == "en" and stored_language(browser) == "en"
