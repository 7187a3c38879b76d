"""The person's experience in a real browser (Chromium) against a real clpr: the whole flow by keyboard alone in
Russian and in English (the documents step included: the file inputs take a path as the file dialog would, every
other action is a key), axe-core on every step (zero serious or critical violations, the confirmation iframe
included), no horizontal overflow at 360 px on every step, the wizard step resumed on another device, and the
confirmation receipt's SHA-256 recomputed from what the claim page shows.

With CLPR_SCREENSHOTS=1 the Russian run also writes docs/screenshots/<step>-1280.png and <step>-360.png (the
README shows them); see `save_screenshot`."""

import base64
import hashlib
import io
import json
import os
import pathlib
import time

import pytest
from axe_core_python.selenium import Axe
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from documents_api import JPEG, PDF, PNG
from documents_ui import slot_codes, wait_files

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
AXE = Axe()

# What the person types, by language: the same claim, written as a person of that locale would.
TEXTS = {
    "ru": {
        "accept_language": "ru-RU",
        "phone": "8 (916) 123-45-67",
        "policy": "ИМ-2026-000123",
        "address": "г. Москва, ул. Профсоюзная, д. 56, кв. 112",
        "description": "Соседи сверху залили кухню: потолок и стены в пятнах.\nЛаминат вздулся.",
        "money": "12 345,67",
        "money_shown": "12\u00a0345,67\u00a0₽",
        "step": "Шаг 1 из 4",
        "saved": "Сохранено",
        "status": "В работе",
        "heading": "Войдите по номеру телефона",
        "documents_heading": "Загрузите документы",
        "refused": "Подходят PDF",
        "uploaded": "загружен",
        "deleted": "удалён",
        # The file chosen for each slot of the property plan, as a Russian-speaking person names them.
        "files": {
            "passport": ("паспорт стр. 2.pdf", PDF),
            "ownership": ("выписка ЕГРН.pdf", PDF),
            "damage_photos": ("кухня.jpg", JPEG),
            "incident_act": ("акт УК.png", PNG),
        },
        "not_a_document": "заметки.pdf",
    },
    "en": {
        "accept_language": "en-GB",
        "phone": "+7 916 123 45 67",
        "policy": "ИМ-2026-000123",
        "address": "Moscow, Profsoyuznaya st. 56, flat 112",
        "description": "The neighbours upstairs flooded the kitchen.\nThe floor is ruined.",
        "money": "12,345.67",
        "money_shown": "12,345.67\u00a0₽",
        "step": "Step 1 of 4",
        "saved": "Saved",
        "status": "In progress",
        "heading": "Sign in with your phone number",
        "documents_heading": "Upload your documents",
        "refused": "PDF, JPEG, PNG, HEIC or WebP files are accepted",
        "uploaded": "uploaded",
        "deleted": "deleted",
        "files": {
            "passport": ("passport page 2.pdf", PDF),
            "ownership": ("title deed.pdf", PDF),
            "damage_photos": ("kitchen.jpg", JPEG),
            "incident_act": ("management company report.png", PNG),
        },
        "not_a_document": "notes.pdf",
    },
}


def make_browser(language):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        f"--lang={TEXTS[language]['accept_language']}",
        "--hide-scrollbars",
    ):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": TEXTS[language]["accept_language"]})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_window_size(1280, 900)
    return driver


@pytest.fixture
def browsers():
    made = []

    def make(language):
        driver = make_browser(language)
        made.append(driver)
        return driver

    yield make
    for driver in made:
        driver.quit()


def current_step(driver):
    return driver.execute_script("return document.getElementById('main').dataset.step")


def wait_step(driver, name, timeout=20):
    WebDriverWait(driver, timeout).until(lambda d: current_step(d) == name)
    # Views render once their data is in; give focus handling its tick.
    time.sleep(0.15)


def active_id(driver):
    return driver.execute_script("const a = document.activeElement; return a ? a.id : null")


def press(driver, *keys):
    ActionChains(driver).send_keys(*keys).perform()


def tab_to(driver, element_id, limit=60):
    """Presses Tab until the element with `element_id` has focus: the keyboard is the only way in."""
    for _ in range(limit):
        if active_id(driver) == element_id:
            return
        press(driver, Keys.TAB)
    raise AssertionError(f"#{element_id} is not reachable with Tab (focus is on #{active_id(driver)})")


def tab_to_match(driver, selector, backwards=False, limit=60):
    """Presses Tab (Shift+Tab with `backwards`) until the focused element matches the CSS `selector`."""
    for _ in range(limit):
        if driver.execute_script("return document.activeElement.matches(arguments[0])", selector):
            return
        if backwards:
            ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        else:
            press(driver, Keys.TAB)
    raise AssertionError(f"{selector} is not reachable with Tab (focus is on #{active_id(driver)})")


def choose_file(driver, input_id, path):
    """The file input that has the keyboard focus takes the file as the file dialog would hand it over."""
    assert active_id(driver) == input_id, f"focus is on #{active_id(driver)}, not on #{input_id}"
    driver.switch_to.active_element.send_keys(str(path))


def russian_outside_the_plan(driver):
    """Cyrillic text on the page (text, accessible names, the title) outside what is marked lang="ru": the plan's
    own texts and the language switch are; everything else must come from the page language's catalog."""
    return driver.execute_script(
        """
        const cyrillic = /[\u0400-\u04ff]/;
        const marked = (el) => { const l = el && el.closest('[lang]'); return l && l.lang.startsWith('ru'); };
        const found = [];
        if (cyrillic.test(document.title)) found.push('title: ' + document.title);
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const el = n.parentElement;
          if (!el || el.closest('script, style') || marked(el)) continue;
          if (cyrillic.test(n.textContent)) found.push(n.textContent.trim());
        }
        for (const el of document.body.querySelectorAll('[aria-label], [title], [placeholder], [alt]')) {
          if (marked(el)) continue;
          for (const a of ['aria-label', 'title', 'placeholder', 'alt']) {
            const v = el.getAttribute(a);
            if (v && cyrillic.test(v)) found.push(`${a}: ${v}`);
          }
        }
        return found;
        """
    )


def tab_into_frame_to(driver, frame_id, element_id, limit=60):
    """Tab until focus is on `element_id` inside the iframe `frame_id`; leaves the driver in the page."""
    for _ in range(limit):
        if active_id(driver) == frame_id:
            frame = driver.find_element("id", frame_id)
            driver.switch_to.frame(frame)
            inside = active_id(driver)
            driver.switch_to.default_content()
            if inside == element_id:
                return
        press(driver, Keys.TAB)
    raise AssertionError(f"#{element_id} in #{frame_id} is not reachable with Tab")


def serious(results):
    return [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]


def describe(violations):
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:5])
        for v in violations
    )


def check_axe(driver, name, frame_id=None):
    found = serious(AXE.run(driver))
    assert not found, f"axe on step {name}:\n{describe(found)}"
    if frame_id:
        driver.switch_to.frame(driver.find_element("id", frame_id))
        try:
            inner = serious(AXE.run(driver))
        finally:
            driver.switch_to.default_content()
        assert not inner, f"axe inside the iframe on step {name}:\n{describe(inner)}"


def emulate_width(driver, width, height):
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def save_screenshot(driver, path, width):
    """The whole page as a small PNG (a 64-colour palette, optimised). The viewport is made as tall as the page
    first: iframes are only painted inside the viewport. The caller restores the viewport."""
    from PIL import Image

    height = driver.execute_script("return document.documentElement.scrollHeight")
    emulate_width(driver, width, height)
    time.sleep(0.5)  # the confirmation frame re-measures itself
    height = driver.execute_script("return document.documentElement.scrollHeight")
    emulate_width(driver, width, height)
    time.sleep(0.3)
    data = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "fromSurface": True})["data"]
    image = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
    image = image.quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", optimize=True)


def check_step(driver, name, shots=None, frame_id=None):
    """Every step: axe at 1280, no horizontal overflow at 360×640, screenshots at both widths when asked."""
    check_axe(driver, name, frame_id)
    if shots is not None:
        save_screenshot(driver, shots / f"{name}-1280.png", 1280)
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    emulate_width(driver, 360, 640)
    try:
        time.sleep(0.3)  # the confirmation frame re-measures itself on resize
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 360, f"step {name} scrolls sideways at 360 px: scrollWidth {width}"
        if frame_id:
            driver.switch_to.frame(driver.find_element("id", frame_id))
            inner = driver.execute_script("return document.documentElement.scrollWidth - innerWidth")
            driver.switch_to.default_content()
            assert inner <= 0, f"the confirmation document scrolls sideways at 360 px on step {name}"
        if shots is not None:
            save_screenshot(driver, shots / f"{name}-360.png", 360)
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        time.sleep(0.1)


def type_date(driver, year, month, day):
    """Types a date into the focused native date field, in the segment order of the browser's own locale."""
    order = driver.execute_script(
        "return new Intl.DateTimeFormat().formatToParts(new Date(2026, 10, 15))"
        ".filter((p) => ['day', 'month', 'year'].includes(p.type)).map((p) => p.type)")
    parts = {"day": f"{day:02d}", "month": f"{month:02d}", "year": f"{year:04d}"}
    for name in order:
        press(driver, parts[name])


def type_keys(driver, text):
    """Types into the focused control, a line break as Shift+Enter-free plain Enter (textareas only)."""
    for part in text.split("\n")[:-1]:
        press(driver, part, Keys.ENTER)
    press(driver, text.split("\n")[-1])


def fetch_json(driver, path):
    return driver.execute_script("const r = await fetch(arguments[0]); return await r.json();", path)


def receipt_from_page(driver):
    """Rebuilds the receipt document from the claim page exactly as docs/api.md ("Confirmation receipt") says."""
    shown = driver.execute_script(
        """
        const text = (el) => el ? el.textContent : null;
        const q = (sel) => document.querySelector(sel);
        return {
          claim_id: text(q('#receipt-claim-id')),
          confirmed_at: q('#receipt-time').getAttribute('datetime'),
          declaration: text(q('#receipt-declaration')),
          language: q('#receipt-declaration').getAttribute('lang'),
          documents: [...document.querySelectorAll('#receipt-documents li')].map((li) => {
            const d = {title: text(li.querySelector('.receipt-doc__title')), required: li.dataset.required === 'true'};
            const hint = li.querySelector('.receipt-doc__hint');
            if (hint) d.hint = hint.textContent;
            return d;
          }),
          fields: [...document.querySelectorAll('#receipt-fields .receipt-field')].map((row) => ({
            label: text(row.querySelector('.receipt-field__label')),
            value: text(row.querySelector('.receipt-field__value')),
          })),
          submission_id: text(q('#receipt-submission-id')),
          summary: text(q('#receipt-summary')),
          title: text(q('#receipt-title')),
          hash: text(q('#receipt-hash')),
        };
        """
    )
    shown_hash = shown.pop("hash")
    shown["version"] = 1
    document = json.dumps(shown, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return document, shown_hash


def frame_content(driver):
    """What the confirmation iframe shows: title, summary, answers, documents, declaration."""
    driver.switch_to.frame(driver.find_element("id", "confirmation-frame"))
    try:
        return driver.execute_script(
            """
            return {
              title: document.querySelector('h1').textContent,
              summary: document.querySelector('.summary').textContent,
              fields: [...document.querySelectorAll('dl .row')].map((r) => ({
                label: r.querySelector('dt').textContent, value: r.querySelector('dd').textContent})),
              declaration: document.getElementById('declaration').textContent,
              lang: document.documentElement.lang,
            };
            """
        )
    finally:
        driver.switch_to.default_content()


@pytest.mark.parametrize("language", ["ru", "en"])
def test_whole_flow_by_keyboard_alone_accessible_at_360_with_a_verifiable_receipt(
    language, server_factory, browsers, tmp_path
):
    t = TEXTS[language]
    shots = SCREENSHOTS if (os.environ.get("CLPR_SCREENSHOTS") == "1" and language == "ru") else None
    # The planner takes 15 s: long enough for the waiting page's "this takes longer" state (after 10 s).
    server = server_factory(CLPR_PLANNER_DELAY_MS="15000")
    driver = browsers(language)

    # Sign in: phone, then the one-time code.
    driver.get(server.base + "/")
    wait_step(driver, "login")
    assert driver.execute_script("return document.documentElement.lang") == language
    assert t["heading"] in driver.find_element("tag name", "h1").text
    phone = driver.find_element("id", "phone")
    assert phone.get_attribute("inputmode") == "tel" and phone.get_attribute("autocomplete") == "tel"
    check_step(driver, "login", shots)
    tab_to(driver, "phone")
    type_keys(driver, t["phone"])
    press(driver, Keys.ENTER)
    wait_step(driver, "code")
    code = driver.find_element("id", "code")
    assert code.get_attribute("autocomplete") == "one-time-code" and code.get_attribute("inputmode") == "numeric"
    check_step(driver, "code", shots)
    tab_to(driver, "code")
    type_keys(driver, server.latest_code())
    press(driver, Keys.ENTER)
    wait_step(driver, "home")
    check_step(driver, "home", shots)

    # New claim: type choice with the arrow keys.
    tab_to(driver, "new-claim")
    press(driver, Keys.ENTER)
    wait_step(driver, "type")
    check_step(driver, "type", shots)
    tab_to(driver, "type-travel")
    press(driver, Keys.ARROW_DOWN)  # travel -> property
    assert driver.execute_script("return document.getElementById('type-property').checked")
    press(driver, Keys.ENTER)
    wait_step(driver, "wizard")

    # Page 1 of 4: policy number, what happened (radios), date of the event.
    assert t["step"] in driver.find_element("id", "progress").text
    assert active_id(driver) is None or driver.execute_script(
        "return document.activeElement.tagName") in ("H1", "MAIN", "BODY")
    check_step(driver, "wizard-1", shots)
    tab_to(driver, "q-policy_number")
    type_keys(driver, t["policy"])
    tab_to(driver, "q-damage_kind-flood")
    press(driver, Keys.SPACE)
    tab_to(driver, "q-event_date")
    type_date(driver, 2026, 11, 15)
    assert driver.execute_script("return document.getElementById('q-event_date').value") == "2026-11-15"
    WebDriverWait(driver, 10).until(
        lambda d: t["saved"] in d.find_element("id", "save-status").text
    )
    # An error first: the address page refuses an empty answer, announces it and links it to the field.
    tab_to(driver, "next")
    press(driver, Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: "step/2" in d.current_url)
    wait_step(driver, "wizard")
    check_step(driver, "wizard-2", shots)
    tab_to(driver, "next")
    press(driver, Keys.ENTER)
    WebDriverWait(driver, 5).until(lambda d: d.find_elements("css selector", ".error-summary"))
    assert active_id(driver) is None or driver.execute_script(
        "return document.activeElement.classList.contains('error-summary')")
    assert driver.find_element("id", "q-address").get_attribute("aria-invalid") == "true"
    assert "q-address-error" in driver.find_element("id", "q-address").get_attribute("aria-describedby")
    assert driver.title.startswith("Ошибка: " if language == "ru" else "Error: ")
    check_step(driver, "wizard-error", shots)
    tab_to(driver, "q-address")
    type_keys(driver, t["address"])
    tab_to(driver, "next")
    press(driver, Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: "step/3" in d.current_url)
    wait_step(driver, "wizard")
    check_step(driver, "wizard-3", shots)
    tab_to(driver, "q-description")
    type_keys(driver, t["description"])
    tab_to(driver, "next")
    press(driver, Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: "step/4" in d.current_url)
    wait_step(driver, "wizard")
    check_step(driver, "wizard-4", shots)
    tab_to(driver, "q-estimated_damage")
    type_keys(driver, t["money"])
    tab_to(driver, "q-authorities_notified-yes")
    press(driver, Keys.SPACE)
    tab_to(driver, "next")
    press(driver, Keys.ENTER)

    # Check answers, then send.
    wait_step(driver, "check")
    answers = driver.find_element("id", "answers").text
    assert t["address"] in answers and t["money_shown"].replace("\u00a0", " ") in answers.replace("\u00a0", " ")
    check_step(driver, "check", shots)
    tab_to(driver, "submit-claim")
    press(driver, Keys.ENTER)

    # Waiting: progress announced politely; after 10 s it says it takes longer and offers to come back later.
    wait_step(driver, "wait")
    status = driver.find_element("id", "wait-status")
    assert status.get_attribute("aria-live") == "polite"
    check_step(driver, "wait", shots)
    slow_text = "больше времени" if language == "ru" else "longer than usual"
    WebDriverWait(driver, 20).until(lambda d: current_step(d) == "confirm"
                                    or slow_text in d.find_element("id", "wait-status").text)
    assert current_step(driver) == "wait", "the 15 s plan arrived before the page said it takes longer"
    check_step(driver, "wait-slow", shots)

    # The confirmation iframe: titled, reachable by Tab, its buttons usable by keyboard.
    wait_step(driver, "confirm", timeout=30)
    frame = driver.find_element("id", "confirmation-frame")
    assert frame.get_attribute("title")
    WebDriverWait(driver, 10).until(lambda d: d.find_element("id", "confirmation-frame").get_attribute("data-settled"))
    check_step(driver, "confirm", shots, frame_id="confirmation-frame")
    shown = frame_content(driver)
    assert shown["lang"] == language
    tab_into_frame_to(driver, "confirmation-frame", "confirm")
    press(driver, Keys.ENTER)

    # Documents: the plan lists four (the incident act is required: the authorities were told). Focus is on the
    # step's heading; «send» waits until every required slot holds a file.
    wait_step(driver, "documents")
    assert driver.find_element("tag name", "h1").text == t["documents_heading"]
    assert driver.execute_script("return document.activeElement === document.querySelector('#main h1')")
    slots = slot_codes(driver)
    assert slots == ["passport", "ownership", "damage_photos", "incident_act"]
    assert not driver.find_element("id", "send-documents").is_enabled()
    assert driver.find_element("id", "documents-live").get_attribute("aria-live") == "polite"
    assert driver.find_element("id", "documents-alert").get_attribute("role") == "alert"
    check_step(driver, "documents-empty")
    if language == "en":
        assert russian_outside_the_plan(driver) == []
    files = {}
    for slot, (name, head) in t["files"].items():
        files[slot] = tmp_path / name
        files[slot].write_bytes(head + f"% {slot}\n".encode())
    not_a_document = tmp_path / t["not_a_document"]
    not_a_document.write_bytes(b"just some notes, not a scan\n")

    # A file that is no document: refused, the reason announced at once and shown in the slot; «dismiss» by
    # keyboard takes focus back to the slot's «choose files».
    tab_to(driver, "file-passport")
    # The input itself is visually hidden: the label that looks like its button shows the focus.
    assert driver.execute_script(
        "return getComputedStyle(document.querySelector('label[for=file-passport]')).backgroundColor"
    ) == "rgb(255, 221, 0)"
    choose_file(driver, "file-passport", not_a_document)
    WebDriverWait(driver, 15).until(lambda d: d.find_elements("css selector", "#uploads-passport .upload--failed"))
    assert t["refused"] in driver.find_element("id", "uploads-passport").text
    assert t["refused"] in driver.find_element("id", "documents-alert").get_attribute("textContent")
    check_step(driver, "documents-error")
    if language == "en":
        assert russian_outside_the_plan(driver) == []
    tab_to_match(driver, "#uploads-passport .upload__dismiss", backwards=True)
    press(driver, Keys.ENTER)
    WebDriverWait(driver, 5).until(lambda d: not d.find_elements("css selector", "#uploads-passport .upload"))
    assert active_id(driver) == "file-passport"

    # Every slot in turn, forwards with Tab: each upload announced politely when stored.
    for slot in slots:
        tab_to(driver, f"file-{slot}")
        choose_file(driver, f"file-{slot}", files[slot])
        wait_files(driver, slot, 1)
        assert files[slot].name in driver.find_element("id", f"files-{slot}").text
        live = driver.find_element("id", "documents-live").get_attribute("textContent")
        assert files[slot].name in live and t["uploaded"] in live
        if slot == "damage_photos":
            # The wrong photo: delete it (Shift+Tab back to «delete»), focus comes back to the slot; again.
            tab_to_match(driver, "#files-damage_photos .doc-file__remove", backwards=True)
            press(driver, Keys.ENTER)
            wait_files(driver, slot, 0)
            assert t["deleted"] in driver.find_element("id", "documents-live").get_attribute("textContent")
            assert active_id(driver) == "file-damage_photos"
            choose_file(driver, "file-damage_photos", files[slot])
            wait_files(driver, slot, 1)
    WebDriverWait(driver, 10).until(lambda d: d.find_element("id", "send-documents").is_enabled())
    check_step(driver, "documents", shots)
    if language == "en":
        assert russian_outside_the_plan(driver) == []
    tab_to(driver, "send-documents")
    press(driver, Keys.ENTER)

    # Done: the claim page with the panel, the status history, the documents and the receipt.
    wait_step(driver, "done")
    assert t["status"] in driver.find_element("id", "claim-status").text
    check_step(driver, "done", shots)
    claim_id = driver.current_url.split("/claims/")[1].split("/")[0].split("?")[0]
    stored = fetch_json(driver, f"/api/v1/claims/{claim_id}")
    history = driver.execute_script(
        "return [...document.querySelectorAll('#status-history li')].map((li) => li.dataset.status)")
    assert history == ["draft", "awaiting_documents", "in_work"]
    uploaded = driver.execute_script(
        "return [...document.querySelectorAll('#uploaded-documents .uploaded-file__name')].map((a) => a.textContent)")
    assert uploaded == [files[slot].name for slot in slots]

    # The receipt: rebuilt from the page, hashed by the test, equal to what the server stored with the consent;
    # and it is what the iframe showed (title, summary, every answer, the declaration, in the page's language).
    document, shown_hash = receipt_from_page(driver)
    digest = hashlib.sha256(document.encode("utf-8")).hexdigest()
    assert document == stored["receipt"]["document"]
    assert digest == shown_hash == stored["receipt"]["sha256"]
    receipt = json.loads(document)
    assert receipt["language"] == language
    assert receipt["declaration"] == shown["declaration"]
    assert receipt["title"] == shown["title"] and receipt["summary"] == shown["summary"]
    assert receipt["fields"] == shown["fields"]
    assert any(f["value"] == t["description"] for f in receipt["fields"])

    # Back home by keyboard: the claim is listed; a new draft shows with its step; the claim page again.
    driver.execute_script(
        "await fetch('/api/v1/claims', {method: 'POST', headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify({type_code: 'osago'})})")
    tab_to(driver, "to-start")
    press(driver, Keys.ENTER)
    wait_step(driver, "home")
    assert driver.find_elements("css selector", ".claim-item") and driver.find_elements("css selector", ".draft-item")
    check_step(driver, "home-claims", shots)
    # As on a later visit (another tab): without the «Заявка принята» panel of the tab that confirmed.
    driver.execute_script("sessionStorage.removeItem('clpr.justConfirmed')")
    driver.refresh()
    wait_step(driver, "home")
    tab_to(driver, f"open-claim-{claim_id}")
    press(driver, Keys.ENTER)
    wait_step(driver, "done")
    assert driver.find_element("id", "receipt-hash").text == stored["receipt"]["sha256"]
    tab_to(driver, "receipt-toggle")
    press(driver, Keys.ENTER)
    assert driver.execute_script("return document.getElementById('receipt-details').open")
    assert driver.find_element("id", "receipt-declaration").text == receipt["declaration"]
    check_step(driver, "claim", shots)

    # The switch offers the other language and keeps the place.
    switch = driver.find_element("id", "language-switch")
    assert switch.get_attribute("lang") == ("en" if language == "ru" else "ru")


def test_leaving_mid_way_another_device_resumes_on_the_same_step(server_factory, browsers):
    server = server_factory()
    first = browsers("ru")
    first.get(server.base + "/")
    wait_step(first, "login")
    first.find_element("id", "phone").send_keys("9161234567")
    first.find_element("id", "send-code").click()
    wait_step(first, "code")
    first.find_element("id", "code").send_keys(server.latest_code())
    first.find_element("id", "verify-code").click()
    wait_step(first, "home")
    first.find_element("id", "new-claim").click()
    wait_step(first, "type")
    first.find_element("css selector", "label[for='type-property']").click()
    first.find_element("id", "start-wizard").click()
    wait_step(first, "wizard")
    first.find_element("id", "q-policy_number").send_keys("ИМ-2026-000123")
    first.find_element("css selector", "label[for='q-damage_kind-fire']").click()
    first.execute_script(
        "const f = document.getElementById('q-event_date'); f.value = '2026-11-15';"
        "f.dispatchEvent(new Event('input', {bubbles: true})); f.dispatchEvent(new Event('change', {bubbles: true}));")
    first.find_element("id", "next").click()
    WebDriverWait(first, 10).until(lambda d: "step/2" in d.current_url)
    claim_id = first.current_url.split("/claims/")[1].split("/")[0]
    WebDriverWait(first, 10).until(lambda d: fetch_json(d, f"/api/v1/claims/{claim_id}").get("wizard_step") == 2)

    # Another device: a fresh browser, signed in with the same number.
    second = browsers("ru")
    second.get(server.base + "/")
    wait_step(second, "login")
    second.find_element("id", "phone").send_keys("+7 916 123-45-67")
    second.find_element("id", "send-code").click()
    wait_step(second, "code")
    second.find_element("id", "code").send_keys(server.latest_code())
    second.find_element("id", "verify-code").click()
    wait_step(second, "home")
    draft = second.find_element("css selector", ".draft-item")
    assert "Шаг 2 из 4" in draft.text
    draft.find_element("css selector", ".resume-draft").click()
    wait_step(second, "wizard")
    assert second.current_url.endswith(f"/claims/{claim_id}/step/2")
    assert "Шаг 2 из 4" in second.find_element("id", "progress").text


def test_every_catalog_has_the_same_texts_as_the_russian_one(server_factory, browsers):
    server = server_factory()
    driver = browsers("ru")
    driver.get(server.base + "/")
    wait_step(driver, "login")
    missing = driver.execute_script(
        """
        const ru = (await import('/js/i18n/ru.js')).default;
        const en = (await import('/js/i18n/en.js')).default;
        const keys = (o, p = '') => Object.entries(o).flatMap(([k, v]) =>
          v && typeof v === 'object' && !Array.isArray(v) ? keys(v, p + k + '.') : [[p + k, typeof v]]);
        const a = new Map(keys(ru).filter(([k]) => !k.startsWith('apiErrors.')));
        const b = new Map(keys(en).filter(([k]) => !k.startsWith('apiErrors.')));
        return {
          missing: [...a.keys()].filter((k) => !b.has(k)),
          extra: [...b.keys()].filter((k) => !a.has(k)),
          kinds: [...a].filter(([k, t]) => b.has(k) && b.get(k) !== t).map(([k]) => k),
        };
        """
    )
    assert missing == {"missing": [], "extra": [], "kinds": []}


def test_a_slow_plan_offers_a_telegram_message_that_arrives(server_factory, browsers):
    """The person signed in through the Telegram Mini App does not wait: the waiting page offers a Telegram
    message, and the Bot API (a fake on loopback) receives it once the plan is there."""
    import http.server
    import threading

    from test_telegram import BOT_TOKEN, init_data, launch_url

    received = []

    class BotAPI(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append((self.path, json.loads(body or b"null")))
            answer = b'{"ok":true,"result":{}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    bot = http.server.ThreadingHTTPServer(("127.0.0.1", 0), BotAPI)
    threading.Thread(target=bot.serve_forever, daemon=True).start()
    try:
        server = server_factory(
            CLPR_TELEGRAM_BOT_TOKEN=BOT_TOKEN,
            CLPR_TELEGRAM_API_URL=f"http://127.0.0.1:{bot.server_address[1]}",
            CLPR_PLANNER_DELAY_MS="16000",
        )
        driver = browsers("ru")
        driver.get(launch_url(server, init_data(777_001)))
        wait_step(driver, "home")
        claim = driver.execute_script(
            """
            const r = await fetch('/api/v1/claims/wizard', {method: 'POST', headers: {'Content-Type': 'application/json'},
              body: JSON.stringify({type_code: 'property', answers: arguments[0]})});
            return await r.json();
            """,
            {"policy_number": "ИМ-1", "damage_kind": "fire", "event_date": "2026-11-15", "address": "Москва",
             "description": "Пожар", "estimated_damage": "1000", "authorities_notified": "no"},
        )
        driver.get(server.base + f"/#/claims/{claim['claim_id']}/wait")
        wait_step(driver, "wait")
        WebDriverWait(driver, 20).until(lambda d: d.find_elements("id", "notify-telegram"))
        assert "Telegram" in driver.find_element("id", "telegram-offer").text
        check_step(driver, "wait-telegram", SCREENSHOTS if os.environ.get("CLPR_SCREENSHOTS") == "1" else None)
        tab_to(driver, "notify-telegram")
        press(driver, Keys.ENTER)
        WebDriverWait(driver, 10).until(lambda d: d.find_elements("id", "telegram-asked"))
        assert received == [], "nothing is sent before the plan is ready"
        WebDriverWait(driver, 20).until(lambda d: received)
        path, body = received[0]
        assert path.endswith("/sendMessage") and body["chat_id"] == 777_001
        assert body["text"].startswith("Ваша заявка готова")
        time.sleep(1)
        assert len(received) == 1
    finally:
        bot.shutdown()
