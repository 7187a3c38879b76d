"""Browser helpers for the documents step: files made in the page (DataTransfer) and handed to a slot's input,
as choosing them in the file dialog does."""

import base64

from selenium.webdriver.support.ui import WebDriverWait

PDF_HEAD = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n"


def attach_files(driver, input_id, files):
    """files: [(name, head bytes, media type, padding bytes)]: each File is `head` followed by `padding` zero bytes."""
    driver.execute_script(
        """
        const input = document.getElementById(arguments[0]);
        const dt = new DataTransfer();
        for (const [name, b64, type, pad] of arguments[1]) {
            const head = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const body = new Uint8Array(head.length + pad);
            body.set(head);
            dt.items.add(new File([body], name, {type}));
        }
        input.files = dt.files;
        input.dispatchEvent(new Event('change', {bubbles: true}));
        """,
        input_id,
        [[name, base64.b64encode(head).decode(), media, pad] for name, head, media, pad in files],
    )


def slot_codes(driver):
    return driver.execute_script("return [...document.querySelectorAll('.doc-slot')].map((s) => s.id.slice(5))")


def wait_files(driver, slot, count, timeout=20):
    WebDriverWait(driver, timeout).until(
        lambda d: len(d.find_elements("css selector", f"#files-{slot} .doc-file")) == count)


def send_documents(driver, step):
    """On the documents step: one small PDF into every empty slot, then «Отправить документы»; ends on the claim
    page. Slots that already hold files are left as they are (a file added there would make two, and waiting for
    one would pass or fail depending on whether the upload had finished yet)."""
    step(driver, "documents")
    for index, slot in enumerate(slot_codes(driver)):
        if driver.find_elements("css selector", f"#files-{slot} .doc-file"):
            continue
        attach_files(driver, f"file-{slot}", [(f"{slot}.pdf", PDF_HEAD + str(index).encode(), "application/pdf", 0)])
        wait_files(driver, slot, 1)
    WebDriverWait(driver, 10).until(lambda d: d.find_element("id", "send-documents").is_enabled())
    driver.find_element("id", "send-documents").click()
    step(driver, "done")
