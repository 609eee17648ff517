"""The page in a real browser: Debian's chromium, headless, driven by Selenium through
Debian's chromedriver (never a downloaded browser or driver: both are given by path, so
Selenium Manager is never asked for one).

The mouse draws on the canvas (pointer events); the page must show class 1 for a vertical
stroke and 0 for a closed loop, with 10 bars that sum to 1 and change while the stroke is
still being drawn; Clear empties it; the model picker switches to the CNN and its feature maps
appear, then to a Fashion-MNIST model and garments are named; ?lang=ko shows the Korean page
with Korean names; and the browser's console has no error at any point.
A screenshot is saved in the test's tmp folder (and copied to $DLSCRATCH_SCREENSHOT if set:
how docs/results/serve/page.png is made).
"""

from __future__ import annotations

import math
import os
import shutil
import time
from pathlib import Path

import pytest

from dlscratch.data import FASHION_MNIST_CLASSES
from dlscratch.serve.labels import korean_class_names

from .conftest import missing

# Debian's packages (chromium, chromium-driver) put both on PATH, in /usr/bin
CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
CHROMEDRIVER = Path(shutil.which("chromedriver") or "/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing("Selenium is not installed: pip install -e '.[test]'")
    if not CHROMIUM.is_file() or not CHROMEDRIVER.is_file():
        missing(f"{CHROMIUM} and {CHROMEDRIVER} are needed (apt-get install chromium "
                "chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1280,980", "--lang=en-US"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def wait_for(condition, timeout: float = 15, what: str = "the page"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def answers(driver) -> int:
    return int(driver.find_element("id", "bars").get_attribute("data-answers") or 0)


def bar_values(driver) -> list[float]:
    return [float(li.get_attribute("data-probability"))
            for li in driver.find_elements("css selector", "#bars li")]


def bar_names(driver) -> list[str]:
    return [e.text for e in driver.find_elements("css selector", "#bars li .name")]


def shown_class(driver) -> str:
    return driver.find_element("id", "top").get_attribute("data-class")


def stroke(driver, points, hold: bool = False, pause: float = 0.02):
    """Press the mouse at points[0] (pixels of the 280x280 pad), move through the others,
    release (unless `hold`)."""
    from selenium.webdriver.common.action_chains import ActionChains

    pad = driver.find_element("id", "pad")
    chain = ActionChains(driver, duration=10)
    x0, y0 = points[0]
    chain.move_to_element_with_offset(pad, round(x0 - 140), round(y0 - 140)).click_and_hold()
    for (xa, ya), (xb, yb) in zip(points, points[1:], strict=False):
        chain.move_by_offset(round(xb) - round(xa), round(yb) - round(ya)).pause(pause)
    if not hold:
        chain.release()
    chain.perform()


def more(driver, moves, pause: float = 0.03):
    """Move the (held) mouse by each (dx, dy) of `moves`."""
    from selenium.webdriver.common.action_chains import ActionChains

    chain = ActionChains(driver, duration=10)
    for dx, dy in moves:
        chain.move_by_offset(dx, dy).pause(pause)
    chain.perform()


def release(driver):
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).release().perform()


def vertical(y0: float, y1: float, steps: int = 12, x: float = 140):
    return [(x, y0 + (y1 - y0) * i / steps) for i in range(steps + 1)]


def loop(steps: int = 40):
    return [(140 + 62 * math.sin(2 * math.pi * i / steps), 140 - 92 * math.cos(
        2 * math.pi * i / steps)) for i in range(steps + 3)]  # a little past the start: closed


def settle(driver, before: int) -> list[float]:
    """Wait for an answer after `before` answers, and for the requests to stop; the bars."""
    wait_for(lambda: answers(driver) > before, what="an answer")
    time.sleep(0.4)
    return bar_values(driver)


def test_drawing_in_the_browser(browser, server, tmp_path):
    driver = browser
    driver.get(server.url)
    wait_for(lambda: len(driver.find_elements("css selector", "#bars li")) == 10,
             what="the 10 bars")
    assert driver.find_element("id", "top").text == "?"
    assert driver.find_element("id", "title").text == "Draw a digit"

    # a vertical stroke, in two halves with the button held: the bars move while drawing
    stroke(driver, vertical(45, 140), hold=True)
    wait_for(lambda: answers(driver) >= 1, what="an answer while drawing")
    assert driver.find_element("id", "pad").get_attribute("data-pointer") == "mouse"
    time.sleep(0.3)  # the answer to the whole first half
    half, seen = bar_values(driver), answers(driver)
    more(driver, [(0, 10)] * 9)  # the button still held
    wait_for(lambda: answers(driver) > seen, what="an answer while still drawing")
    during = bar_values(driver)  # read with the button still held
    release(driver)
    values = settle(driver, answers(driver) - 1)
    for bars in (half, during, values):
        assert len(bars) == 10 and abs(sum(bars) - 1) < 1e-6
    assert during != half  # the stroke, still being drawn, changed the probabilities
    assert shown_class(driver) == "1", values
    assert driver.find_element("id", "top").text == "1"
    assert max(values) == values[1]

    # what the network received: a 28x28 picture with ink in it
    ink = driver.execute_script(
        "const c = document.getElementById('input');"
        "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i]; return [c.width, s];")
    assert ink[0] == 28 and ink[1] > 0
    assert len(driver.find_elements("css selector", "#hidden canvas")) == 1  # Relu1's strip

    # Clear, then a closed loop: 0
    driver.find_element("id", "clear").click()
    assert driver.find_element("id", "top").text == "?" and sum(bar_values(driver)) == 0
    blank = driver.execute_script(
        "const d = document.getElementById('pad').getContext('2d').getImageData(0, 0, 280, 280)"
        ".data; return d.every(v => v === 255);")
    assert blank
    before = answers(driver)
    stroke(driver, loop())
    values = settle(driver, before)
    assert shown_class(driver) == "0", values
    assert abs(sum(values) - 1) < 1e-6

    # the CNN from the picker: its first convolution's 30 feature maps
    from selenium.webdriver.support.ui import Select

    driver.find_element("id", "clear").click()
    Select(driver.find_element("id", "model")).select_by_value("simple-cnn")
    before = answers(driver)
    stroke(driver, [(95, 60), (185, 60), (150, 150), (125, 235)])  # a 7
    values = settle(driver, before)
    assert abs(sum(values) - 1) < 1e-6
    assert len(driver.find_elements("css selector", "#maps canvas")) == 30
    assert driver.find_element("id", "maps-title").is_displayed()
    shot = tmp_path / "page.png"
    assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    if os.environ.get("DLSCRATCH_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["DLSCRATCH_SCREENSHOT"])
    assert console_errors(driver) == []

    # a Fashion-MNIST model: the bars and the answer are garments
    driver.find_element("id", "clear").click()
    Select(driver.find_element("id", "model")).select_by_value("fashion")
    assert bar_names(driver) == list(FASHION_MNIST_CLASSES)
    assert driver.find_element("id", "title").text == "Draw a garment or a shoe"
    before = answers(driver)
    stroke(driver, vertical(45, 235))
    settle(driver, before)
    assert driver.find_element("id", "top").text in FASHION_MNIST_CLASSES

    # Korean
    driver.find_element("id", "lang").click()
    wait_for(lambda: "lang=ko" in driver.current_url, what="the Korean page")
    wait_for(lambda: len(driver.find_elements("css selector", "#bars li")) == 10,
             what="the bars of the Korean page")
    assert driver.find_element("tag name", "html").get_attribute("lang") == "ko"
    assert driver.find_element("id", "title").text == "옷이나 신발을 그려 보세요"  # Fashion
    assert driver.find_element("id", "clear").text == "지우기"
    assert Select(driver.find_element("id", "model")).first_selected_option \
        .get_attribute("value") == "fashion"  # the model chosen is kept
    assert driver.find_element("id", "lang").text == "English"
    korean = korean_class_names("fashion-mnist", list(FASHION_MNIST_CLASSES))
    assert bar_names(driver) == korean and korean != list(FASHION_MNIST_CLASSES)
    before = answers(driver)
    stroke(driver, vertical(45, 235))
    settle(driver, before)
    assert driver.find_element("id", "top").text in korean
    driver.save_screenshot(str(tmp_path / "page-ko.png"))
    assert console_errors(driver) == []


@pytest.mark.parametrize("kind", ["touch", "pen"])
def test_a_finger_or_a_pen_draws_too(browser, server, kind):
    """Pointer events of another kind than the mouse: a vertical stroke is a 1."""
    from selenium.webdriver.common.actions import interaction
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.pointer_input import PointerInput

    driver = browser
    driver.get(server.url)  # the default model: the two-layer one
    wait_for(lambda: len(driver.find_elements("css selector", "#bars li")) == 10,
             what="the 10 bars")
    kinds = {"touch": interaction.POINTER_TOUCH, "pen": interaction.POINTER_PEN}
    builder = ActionBuilder(driver, mouse=PointerInput(kinds[kind], kind), duration=10)
    pad = driver.find_element("id", "pad")
    builder.pointer_action.move_to(pad, 0, -95).pointer_down()
    for _ in range(19):
        builder.pointer_action.move_by(0, 10).pause(0.02)
    builder.pointer_action.pointer_up()
    builder.perform()
    values = settle(driver, 0)
    assert pad.get_attribute("data-pointer") == kind  # the page saw that kind of pointer
    assert abs(sum(values) - 1) < 1e-6
    assert shown_class(driver) == "1", values
    assert console_errors(driver) == []
