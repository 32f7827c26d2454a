"""Headless Chromium (Debian's) driven by selenium through Debian's chromedriver.

Nothing is downloaded: the browser and driver paths are given, so selenium
never runs its driver manager. Every browser gets a fresh profile directory.
"""

import base64
import os
from pathlib import Path

import numpy as np
from selenium import webdriver
from selenium.common.exceptions import JavascriptException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from tests.waiting import wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--autoplay-policy=no-user-gesture-required", "--mute-audio",
]  # fmt: skip

# The frame on screen as grey pixels, the way ffmpeg's format=gray gives them:
# BT.601 limited-range luma, from the RGB the browser drew.
GRAB_FRAME = """
const video = document.getElementById("video");
const canvas = document.createElement("canvas");
canvas.width = arguments[0]; canvas.height = arguments[1];
const ctx = canvas.getContext("2d");
ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
const grey = new Uint8Array(rgba.length / 4);
for (let i = 0; i < grey.length; i++) {
  const [r, g, b] = [rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]];
  grey[i] = Math.round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255);
}
let text = "";
for (let i = 0; i < grey.length; i += 8192) {
  text += String.fromCharCode.apply(null, grey.subarray(i, i + 8192));
}
return btoa(text);
"""


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return (
                f"{path} is missing: run scripts/install-system-deps "
                "(apt-get install chromium chromium-driver)"
            )
    return None


def start_chromium(profile: Path, log: Path, flags: list[str] = FLAGS) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*flags, f"--user-data-dir={profile}", "--window-size=1280,720"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(CHROMEDRIVER, log_output=str(log))
    return webdriver.Chrome(service=service, options=options)


class Page:
    """The editor page in one browser: find, type, press keys, wait, and take pictures."""

    def __init__(self, driver: webdriver.Chrome, url: str, shots: Path) -> None:
        self.driver = driver
        self.url = url
        self.shots = shots
        self.count = 0

    def open(self, query: str = "") -> None:
        self.driver.get(f"{self.url}/editor{query}")

    def el(self, element_id: str):
        return self.driver.find_element(By.ID, element_id)

    def click(self, element_id: str) -> None:
        """Click an element after scrolling it to the middle of the window.

        A button at the window's bottom edge can be covered by whatever the page lays
        out below it, and the browser then refuses the click as intercepted.
        """
        element = self.el(element_id)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()

    def text(self, element_id: str) -> str:
        return self.el(element_id).text

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def wait(self, predicate, what: str, timeout: float = 30.0):
        """Poll ``predicate`` until true; fail naming ``what`` and the page's message line."""

        def attempt():
            try:
                return predicate()
            except JavascriptException:
                return None

        def detail():
            self.shot("timeout")
            shown = self.js("return document.getElementById('message').textContent")
            return f"page message: {shown!r}"

        return wait_until(attempt, what, timeout, detail=detail)

    def wait_text_change(self, element_id: str, old: str, what: str) -> str:
        return self.wait(lambda: (t := self.text(element_id)) != old and t, what)

    def key(self, keys: str, *, blur: bool = True) -> None:
        """Keys pressed on the page itself, as a person would with nothing focused.

        ``blur=False`` presses them wherever the focus is (after a click, say).
        """
        if blur:
            self.js("document.activeElement && document.activeElement.blur()")
        ActionChains(self.driver).send_keys(keys).perform()

    def fill(self, element_id: str, value: str) -> None:
        field = self.el(element_id)
        field.clear()
        field.send_keys(value)
        self.js("arguments[0].dispatchEvent(new Event('change'))", field)

    def answer(self, label: str) -> None:
        """Click the button of the open question (dialog#ask) whose text starts with ``label``."""
        self.wait(
            lambda: self.el("ask").get_attribute("open") is not None, f"the question {label!r}"
        )
        buttons = self.driver.find_elements(By.CSS_SELECTOR, "#ask-buttons button")
        (button,) = [b for b in buttons if b.text.startswith(label)]
        button.click()

    def message(self) -> tuple[str, bool]:
        """The message line's text, and whether it shows an error."""
        box = self.el("message")
        return box.text, "error" in (box.get_attribute("class") or "")

    def shot(self, name: str) -> Path:
        self.count += 1
        path = self.shots / f"{self.count:02d}-{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def frame(self, size: str = "320x180") -> np.ndarray:
        w, h = map(int, size.split("x"))
        data = base64.b64decode(self.js(GRAB_FRAME, w, h))
        return np.frombuffer(data, dtype=np.uint8)

    def console_errors(self) -> list[str]:
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]
