"""The demo page in a real browser (headless Chromium): upload, slider, preview rate, brush,
download, checked on the canvas pixels. .ci/run installs Chromium where it is missing."""

from __future__ import annotations

import shutil
import socket
import threading
import time

import numpy as np
import pytest
from PIL import Image

from dynamicnet.server import create_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs chromium and chromedriver")


@pytest.fixture(scope="module")
def server(tiny_model_file, tiny_gan_file, tiny_completion_file):
    import uvicorn

    models = {"tiny": tiny_model_file, "faces": tiny_gan_file, "fill": tiny_completion_file}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(models, precision="fp32"), port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1300,900"):
        options.add_argument(flag)
    downloads = tmp_path_factory.mktemp("downloads")
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads)})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def wait_for(driver, script: str, timeout: float = 60):
    end = time.time() + timeout
    while time.time() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.05)
    status = driver.execute_script("return document.getElementById('status').textContent")
    raise AssertionError(f"timed out waiting for: {script} (status: {status!r})")


def canvas(driver) -> np.ndarray:
    w, h, data = driver.execute_script(
        "const c = document.getElementById('view');"
        "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "return [c.width, c.height, Array.from(d)];"
    )
    return np.array(data, dtype=np.float32).reshape(h, w, 4)[..., :3]


def settle(driver, count: int) -> None:
    """Wait until the page has drawn more than ``count`` exact renders and none is pending."""
    wait_for(driver, f"return window.previewStats.exactRenders > {count}")


def set_alpha(driver, value: float) -> None:
    renders = driver.execute_script("return window.previewStats.exactRenders")
    driver.execute_script(
        "const s = document.getElementById('alpha'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change'));",
        value,
    )
    settle(driver, renders)


def upload_photo(driver, tmp_path) -> Image.Image:
    """Upload a colourful 600x400 photo; returns it as the page previews it (384 px wide)."""
    from selenium.webdriver.common.by import By

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:400, 0:600] / 600
    photo = (
        np.stack([np.sin(xx * 9), np.cos(yy * 7), xx * yy], -1) * 0.4
        + 0.5
        + rng.normal(0, 0.05, (400, 600, 3))
    )
    path = tmp_path / "upload.png"
    image = Image.fromarray((photo.clip(0, 1) * 255).astype(np.uint8))
    image.save(path)
    renders = driver.execute_script("return window.previewStats.exactRenders")
    driver.find_element(By.ID, "upload").send_keys(str(path))
    settle(driver, renders)
    wait_for(driver, "return document.getElementById('view').width === 384")
    return image.resize((384, 256), Image.Resampling.BILINEAR)


def test_demo_page_end_to_end(server, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    browser.get(server)
    wait_for(browser, "return document.body.dataset.ready === '1'")
    assert "alpha 0 is the main network" in browser.find_element(By.ID, "explain").text

    upload_photo(browser, tmp_path)  # 600x400: the page previews it at 384 px
    base = canvas(browser)
    assert base.shape == (256, 384, 3)

    # the exact render follows the slider
    set_alpha(browser, 1.0)
    heavy = canvas(browser)
    assert np.abs(heavy - base).mean() > 2.0

    # dragging: keyframe previews, drawn at >= 20 frames per second
    stats = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const s = document.getElementById('alpha');
        window.previewStats.frames = 0;
        let i = 0; const sums = [];
        function step() {
          s.value = (i % 41) / 40; s.dispatchEvent(new Event('input'));
          if (i === 10 || i === 30) {
            const c = document.getElementById('view');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let t = 0; for (let k = 0; k < d.length; k += 4) t += d[k]; sums.push(t);
          }
          if (++i < 90) requestAnimationFrame(step);
          else { const p = window.previewStats; done([p.frames, p.last - p.first, sums]); }
        }
        requestAnimationFrame(step);
        """
    )
    frames, elapsed_ms, sums = stats
    fps = (frames - 1) / (elapsed_ms / 1000)
    print(f"preview rate while dragging: {fps:.0f} frames/s over {frames} frames")
    assert fps >= 20
    assert sums[0] != sums[1]  # the preview changed with the slider

    # paint the left edge at alpha 1: the left follows alpha 1, the right stays near alpha 0
    set_alpha(browser, 1.0)
    browser.find_element(By.ID, "paint").click()
    view = browser.find_element(By.ID, "view")
    renders = browser.execute_script("return window.previewStats.exactRenders")
    size = view.size
    chain = ActionChains(browser).move_to_element_with_offset(
        view, -size["width"] // 2 + 20, -size["height"] // 2 + 10
    )
    chain.click_and_hold()
    for y in range(10, size["height"] - 10, 12):
        for x in (20, 60, 100):
            chain.move_to_element_with_offset(view, -size["width"] // 2 + x, -size["height"] // 2 + y)
    chain.release().perform()
    settle(browser, renders)
    painted = canvas(browser)
    left, right = slice(30, 90), slice(300, 380)
    assert (
        np.abs(painted[40:200, left] - heavy[40:200, left]).mean()
        < np.abs(painted[40:200, left] - base[40:200, left]).mean()
    )
    # (instance normalisation spreads some change everywhere, so compare distances)
    assert (
        np.abs(painted[40:200, right] - base[40:200, right]).mean()
        < np.abs(painted[40:200, right] - heavy[40:200, right]).mean()
    )

    # download: the full-resolution PNG
    browser.find_element(By.ID, "download").click()
    download = wait_for(browser, "return window.lastDownload")
    assert (download["width"], download["height"]) == (600, 400)


def test_colour_toggle_keeps_the_photos_colours(server, browser, tmp_path):
    """The toggle keeps the stylized brightness and takes the photo's chroma (BT.601)."""
    from selenium.webdriver.common.by import By

    browser.get(server)
    wait_for(browser, "return document.body.dataset.ready === '1'")
    photo = np.asarray(upload_photo(browser, tmp_path), dtype=np.float32)
    set_alpha(browser, 1.0)
    styled = canvas(browser)

    def ycc(rgb: np.ndarray) -> np.ndarray:
        m = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
        return rgb @ m.T.astype(np.float32)

    toggle = browser.find_element(By.ID, "keep-color")
    for checked in (True, False):
        renders = browser.execute_script("return window.previewStats.exactRenders")
        toggle.click()
        settle(browser, renders)
        shown = canvas(browser)
        if checked:
            chroma_kept = np.abs(ycc(shown)[..., 1:] - ycc(photo)[..., 1:]).mean()
            chroma_styled = np.abs(ycc(styled)[..., 1:] - ycc(photo)[..., 1:]).mean()
            assert chroma_kept < 0.5 * chroma_styled, (chroma_kept, chroma_styled)
            assert np.abs(ycc(shown)[..., 0] - ycc(styled)[..., 0]).mean() < 3.0
        else:
            assert np.abs(shown - styled).mean() < 1.0  # off again: the plain stylized image


def test_faces_view_follows_alpha_and_reroll(server, browser):
    """A GAN model: the photo controls give way to a seed; the face grid follows the slider."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(server)
    wait_for(browser, "return document.body.dataset.ready === '1'")
    renders = browser.execute_script("return window.previewStats.exactRenders")
    Select(browser.find_element(By.ID, "model")).select_by_value("faces")
    settle(browser, renders)
    assert browser.execute_script("return document.body.dataset.task") == "gan"
    assert not browser.find_element(By.ID, "upload").is_displayed()
    assert browser.find_element(By.ID, "seed").is_displayed()
    assert "Blond_Hair" in browser.find_element(By.ID, "explain").text
    wait_for(browser, "return document.getElementById('view').width === 768")  # 4 x 4 faces, 3x zoom
    base = canvas(browser)

    set_alpha(browser, 1.0)
    tuned = canvas(browser)
    assert np.abs(tuned - base).mean() > 1.0

    renders = browser.execute_script("return window.previewStats.exactRenders")
    browser.find_element(By.ID, "reroll").click()
    settle(browser, renders)
    assert np.abs(canvas(browser) - tuned).mean() > 1.0

    frames, elapsed_ms = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const s = document.getElementById('alpha');
        window.previewStats.frames = 0;
        let i = 0;
        function step() {
          s.value = (i % 21) / 20; s.dispatchEvent(new Event('input'));
          if (++i < 60) requestAnimationFrame(step);
          else setTimeout(() => { const p = window.previewStats; done([p.frames, p.last - p.first]); }, 300);
        }
        requestAnimationFrame(step);
        """
    )
    print(f"faces while dragging: {frames} grids drawn, {(frames - 1) / (elapsed_ms / 1000):.0f} per second")
    assert frames >= 5


def test_completion_view_fills_the_painted_hole(server, browser):
    """A completion model: the brush paints a hole, the fill follows alpha, auto sets the slider."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(server)
    wait_for(browser, "return document.body.dataset.ready === '1'")
    Select(browser.find_element(By.ID, "model")).select_by_value("fill")
    wait_for(browser, "return document.getElementById('status').textContent.includes('paint the hole')")
    assert browser.find_element(By.ID, "auto").is_displayed()
    assert not browser.find_element(By.ID, "paint").is_displayed()  # the brush always paints the hole
    original = canvas(browser)

    view = browser.find_element(By.ID, "view")
    size = view.size
    renders = browser.execute_script("return window.previewStats.exactRenders")
    chain = ActionChains(browser).move_to_element_with_offset(view, -40, -30).click_and_hold()
    for dx, dy in ((0, 30), (20, 30), (20, 0), (40, 0), (40, 30)):
        chain.move_to_element_with_offset(view, -40 + dx, -30 + dy)
    chain.release().perform()
    settle(browser, renders)
    filled = canvas(browser)
    cy, cx = size["height"] // 2, size["width"] // 2
    scale = filled.shape[1] / size["width"]
    hole = filled[
        round((cy - 25) * scale) : round((cy - 5) * scale),
        round((cx - 38) * scale) : round((cx - 22) * scale),
    ]
    before = original[
        round((cy - 25) * scale) : round((cy - 5) * scale),
        round((cx - 38) * scale) : round((cx - 22) * scale),
    ]
    assert np.abs(hole - before).mean() > 2.0  # the painted region was filled anew
    corner = (slice(0, 20), slice(0, 20))
    assert np.abs(filled[corner] - original[corner]).mean() < 3.0  # far from the hole: the photo

    set_alpha(browser, 1.0)
    assert np.abs(canvas(browser) - filled).mean() > 0.05
    renders = browser.execute_script("return window.previewStats.exactRenders")
    browser.find_element(By.ID, "auto").click()
    settle(browser, renders)
    assert "auto alpha" in browser.find_element(By.ID, "status").text
