"""The demo page in a real browser (headless Chromium): upload, slider, preview rate, brush,
download, checked on the canvas pixels. .ci/run installs Chromium where it is missing."""

from __future__ import annotations

import shutil
import socket
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dynamicnet.server import create_app
from dynamicnet.tasks.style.web import Training
from tests.conftest import make_photo

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs chromium and chromedriver")


@pytest.fixture(scope="module")
def server(tiny_model_file, tiny_gan_file, tiny_completion_file, tmp_path_factory):
    """The demo, whose paintings train in seconds (tiny_new_style.py) into a user folder of
    its own."""
    import uvicorn

    models = {"tiny": tiny_model_file, "faces": tiny_gan_file, "fill": tiny_completion_file}
    root = tmp_path_factory.mktemp("new-style")
    for i in range(5):
        make_photo(root / "photos" / f"p{i}.jpg", size=(48 + 4 * i, 40), seed=i)
    command = (sys.executable, str(Path(__file__).with_name("tiny_new_style.py")))
    training = Training(command=command, photos=root / "photos", perceptual="random")
    app = create_app(models, precision="fp32", view_options={"style": {"training": training}})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DYNAMICNET_HOME", str(root / "home"))
        srv = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
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


def upload_photo(driver, tmp_path, size=(480, 320)) -> Image.Image:
    """Upload a colourful photo; returns it at the size the page renders it (the displayed
    size in device pixels, at most the photo's own)."""
    from selenium.webdriver.common.by import By

    rng = np.random.default_rng(0)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w] / w
    photo = (
        np.stack([np.sin(xx * 9), np.cos(yy * 7), xx * yy], -1) * 0.4 + 0.5 + rng.normal(0, 0.05, (h, w, 3))
    )
    path = tmp_path / "upload.png"
    image = Image.fromarray((photo.clip(0, 1) * 255).astype(np.uint8))
    image.save(path)
    renders = driver.execute_script("return window.previewStats.exactRenders")
    driver.find_element(By.ID, "upload").send_keys(str(path))
    settle(driver, renders)
    cw, ch = driver.execute_script("const c = document.getElementById('view'); return [c.width, c.height]")
    return image.resize((cw, ch), Image.Resampling.BILINEAR)


def test_demo_page_end_to_end(server, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    browser.get(server)
    wait_for(browser, "return document.body.dataset.ready === '1'")
    assert "alpha 0 is the main network" in browser.find_element(By.ID, "explain").text

    upload_photo(browser, tmp_path)  # 480x320, shown larger than that: rendered at its own size
    base = canvas(browser)
    assert base.shape == (320, 480, 3)

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
    scale = painted.shape[1] / size["width"]  # canvas pixels per CSS pixel
    left, right = slice(round(30 * scale), round(90 * scale)), slice(360, 470)
    rows = slice(50, 250)
    assert (
        np.abs(painted[rows, left] - heavy[rows, left]).mean()
        < np.abs(painted[rows, left] - base[rows, left]).mean()
    )
    # (instance normalisation spreads some change everywhere, so compare distances)
    assert (
        np.abs(painted[rows, right] - base[rows, right]).mean()
        < np.abs(painted[rows, right] - heavy[rows, right]).mean()
    )

    # download: the full-resolution PNG
    browser.find_element(By.ID, "download").click()
    download = wait_for(browser, "return window.lastDownload")
    assert (download["width"], download["height"]) == (480, 320)


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


def open_faces(browser, server) -> None:
    """The page with the GAN model chosen and its first grid drawn."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(server)
    wait_for(browser, "return document.body.dataset.ready === '1'")
    renders = browser.execute_script("return window.previewStats.exactRenders")
    Select(browser.find_element(By.ID, "model")).select_by_value("faces")
    settle(browser, renders)


def test_faces_view_follows_alpha_and_reroll(server, browser):
    """A GAN model: the photo controls give way to a seed; the face grid follows the slider."""
    from selenium.webdriver.common.by import By

    open_faces(browser, server)
    assert browser.execute_script("return document.body.dataset.task") == "gan"
    assert not browser.find_element(By.ID, "upload").is_displayed()
    assert browser.find_element(By.ID, "seed").is_displayed()
    assert "Blond_Hair" in browser.find_element(By.ID, "explain").text
    wait_for(browser, "return document.getElementById('view').width === 256")  # 4 x 4 faces of 64 px
    shown = browser.execute_script("return document.getElementById('view').getBoundingClientRect().height")
    assert shown > 256 and shown <= browser.execute_script("return window.innerHeight")  # fits, zoomed
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


def viewport(driver, width: int, height: int, scale: float = 1.0) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": width < 600},
    )


def rect(driver, element_id: str) -> dict:
    return driver.execute_script(
        "const r = document.getElementById(arguments[0]).getBoundingClientRect();"
        "return {x: r.x, y: r.y, width: r.width, height: r.height, bottom: r.bottom};",
        element_id,
    )


def screen(driver) -> np.ndarray:
    """The page as displayed (what a user sees), RGB."""
    import io

    return np.asarray(Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB"), dtype=np.float32)


@pytest.mark.parametrize("size", [(420, 800), (1280, 800), (1920, 1080)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_picture_takes_the_room_it_has_and_shows_rendered_pixels(server, browser, tmp_path, size):
    width, height = size
    viewport(browser, width, height)
    try:
        browser.get(server)
        wait_for(browser, "return document.body.dataset.ready === '1'")
        upload_photo(browser, tmp_path)
        picture, controls = rect(browser, "view"), rect(browser, "controls")
        if width < 600:  # a phone: the controls stack under the picture, which spans the width
            assert picture["width"] >= 0.9 * (width - 20) and controls["y"] >= picture["bottom"] - 1
        else:  # a desktop: beside the controls, at least half the viewport's width
            assert picture["width"] >= width / 2 and controls["x"] < picture["x"]
            assert picture["bottom"] <= height  # and all of it on screen
        # the canvas holds the displayed size in device pixels (at most the photo's own)
        cw = browser.execute_script("return document.getElementById('view').width")
        assert cw == 480 if picture["width"] >= 480 else abs(cw - picture["width"]) <= 1
        # no veil: the displayed picture is the rendered one (compared over a block of pixels)
        shown, drawn = screen(browser), canvas(browser)
        x0, y0 = round(picture["x"]), round(picture["y"])
        k = picture["width"] / drawn.shape[1]
        block = shown[y0 + round(20 * k) : y0 + round(60 * k), x0 + round(20 * k) : x0 + round(60 * k)]
        assert np.abs(block.mean((0, 1)) - drawn[20:60, 20:60].mean((0, 1))).max() < 4.0
    finally:
        viewport(browser, 1300, 900)


def test_high_dpi_screens_get_a_sharper_render(server, browser, tmp_path):
    viewport(browser, 900, 700, scale=2.0)  # the picture is shown about 500 px wide
    try:
        browser.get(server)
        wait_for(browser, "return document.body.dataset.ready === '1'")
        upload_photo(browser, tmp_path, (1200, 800))
        css = rect(browser, "view")["width"]
        cw = browser.execute_script("return document.getElementById('view').width")
        assert abs(cw - 2 * css) <= 2, (cw, css)
        browser.find_element("id", "download").click()
        download = wait_for(browser, "return window.lastDownload")
        assert (download["width"], download["height"]) == (1200, 800)  # downloads stay full size
    finally:
        viewport(browser, 1300, 900)


def test_divider_and_press_and_hold_show_the_original(server, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(server)
    wait_for(browser, "return document.body.dataset.ready === '1'")
    upload_photo(browser, tmp_path)
    set_alpha(browser, 1.0)
    styled = canvas(browser)
    original = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const c = document.createElement('canvas'), v = document.getElementById('view');"
        "c.width = v.width; c.height = v.height;"
        "fetch('/api/images/' + state.image + '?max_side=' + Math.max(v.width, v.height)).then(r => r.blob())"
        ".then(createImageBitmap).then(b => { const x = c.getContext('2d'); x.drawImage(b, 0, 0);"
        "done(Array.from(x.getImageData(0, 0, c.width, c.height).data)); });"
    )
    original = np.array(original, dtype=np.float32).reshape(styled.shape[0], styled.shape[1], 4)[..., :3]
    browser.find_element(By.ID, "compare").click()
    divider = browser.find_element(By.ID, "divider")
    assert divider.is_displayed()
    split = canvas(browser)
    w = split.shape[1]
    assert np.abs(split[:, : w // 2 - 4] - original[:, : w // 2 - 4]).mean() < 1.0  # left of it: the photo
    assert np.abs(split[:, w // 2 + 4 :] - styled[:, w // 2 + 4 :]).mean() < 1.0  # right: the render
    divider.send_keys(Keys.ARROW_RIGHT * 10)  # keyboard: 2 % a step
    assert browser.execute_script("return state.split") == pytest.approx(0.7)
    ActionChains(browser).drag_and_drop_by_offset(divider, -rect(browser, "view")["width"] * 0.5, 0).perform()
    assert browser.execute_script("return state.split") < 0.3
    browser.find_element(By.ID, "compare").click()
    view = browser.find_element(By.ID, "view")
    ActionChains(browser).move_to_element(view).click_and_hold().perform()
    held = canvas(browser)
    ActionChains(browser).release().perform()
    assert np.abs(held - original).mean() < 1.0 and np.abs(canvas(browser) - styled).mean() < 1.0


def test_the_brush_shows_its_size_its_strokes_and_undoes(server, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    browser.get(server)
    wait_for(browser, "return document.body.dataset.ready === '1'")
    upload_photo(browser, tmp_path)
    browser.find_element(By.ID, "paint").click()
    view = browser.find_element(By.ID, "view")
    ActionChains(browser).move_to_element(view).perform()
    cursor = rect(browser, "cursor")
    assert cursor["width"] == pytest.approx(
        float(browser.find_element(By.ID, "brush").get_attribute("value")), abs=1
    )
    renders = browser.execute_script("return window.previewStats.exactRenders")
    ActionChains(browser).move_to_element(view).click_and_hold().move_by_offset(40, 0).release().perform()
    settle(browser, renders)

    def overlay_pixels() -> int:
        return browser.execute_script(
            "const c = document.getElementById('overlay');"
            "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;"
            " for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n;"
        )

    assert overlay_pixels() > 500  # the stroke, tinted, with an outline
    browser.find_element(By.ID, "show-mask").click()
    assert overlay_pixels() == 0  # hidden, still painted
    assert browser.execute_script("return state.painted")
    browser.find_element(By.ID, "show-mask").click()
    renders = browser.execute_script("return window.previewStats.exactRenders")
    browser.find_element(By.ID, "undo").click()
    settle(browser, renders)
    assert overlay_pixels() == 0 and not browser.execute_script("return state.painted")
    # paint mode belongs to the model it was turned on for
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.ID, "model")).select_by_value("faces")
    Select(browser.find_element(By.ID, "model")).select_by_value("tiny")
    assert browser.find_element(By.ID, "paint").is_selected()


def test_the_knob_marks_where_training_ends(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(server)
    wait_for(browser, "return document.body.dataset.ready === '1'")
    slider = browser.find_element(By.ID, "alpha")
    assert float(slider.get_attribute("max")) > 1.0 and float(slider.get_attribute("min")) < 0.0
    note = browser.find_element(By.ID, "alpha-note")
    assert "Trained range 0 to 1" in note.text
    set_alpha(browser, 1.4)
    assert "Extrapolating" in note.text and note.is_displayed()


def test_errors_are_shown_in_plain_words_next_to_the_picture(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(server)
    wait_for(browser, "return document.body.dataset.ready === '1'")
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    browser.find_element(By.ID, "upload").send_keys(str(bad))
    message = browser.find_element(By.ID, "message")
    wait_for(browser, "return !document.getElementById('message').hidden")
    assert "not an image we can read" in message.text and "JPEG, PNG" in message.text
    box = rect(browser, "message")
    assert box["y"] >= 0 and box["bottom"] <= browser.execute_script("return window.innerHeight")


def test_a_face_opens_large_with_its_strip_across_alpha(server, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    open_faces(browser, server)
    view = browser.find_element(By.ID, "view")
    size = view.size
    ActionChains(browser).move_to_element_with_offset(
        view, -size["width"] // 2 + 10, -size["height"] // 2 + 10
    ).click().perform()
    wait_for(browser, "return !document.getElementById('faceview').hidden")
    assert browser.execute_script("return document.getElementById('strip').width") == 7 * 64
    assert "face 1 across alpha" in browser.find_element(By.ID, "strip-label").text


@pytest.fixture(scope="module")
def camera_browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800",
                 "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def test_the_live_camera_stylizes_frames_and_shows_its_rate(server, camera_browser):
    from selenium.webdriver.common.by import By

    camera_browser.get(server)
    wait_for(camera_browser, "return document.body.dataset.ready === '1'")
    camera_browser.find_element(By.ID, "camera-toggle").click()
    wait_for(camera_browser, "return window.cameraStats.frames >= 5", timeout=60)
    assert "frames/s" in camera_browser.find_element(By.ID, "rate").text
    assert camera_browser.execute_script("return document.getElementById('view').width") == 320
    camera_browser.find_element(By.ID, "camera-toggle").click()
    wait_for(camera_browser, "return !document.body.classList.contains('camera')")


def test_every_control_is_labelled_and_the_keyboard_moves_the_sliders(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(server)
    wait_for(browser, "return document.body.dataset.ready === '1'")
    unnamed = browser.execute_script(
        """
        const label = (el) => el.labels && el.labels.length ? el.labels[0].textContent : '';
        const named = (el) => (el.getAttribute('aria-label') || label(el)
          || el.getAttribute('aria-labelledby') || el.textContent || '').trim().length > 0;
        return Array.from(document.querySelectorAll('input, select, button, [role=slider]'))
          .filter((el) => el.offsetParent !== null && !named(el)).map((el) => el.outerHTML.slice(0, 80));
        """
    )
    assert unnamed == []
    tabbable = browser.execute_script(
        "return Array.from(document.querySelectorAll('input, select, button'))"
        ".filter((el) => el.offsetParent !== null && (el.disabled || el.tabIndex < 0)).length"
    )
    assert tabbable == 0
    slider = browser.find_element(By.ID, "alpha")
    before = float(slider.get_attribute("value"))
    slider.send_keys(Keys.ARROW_RIGHT * 5)
    assert float(slider.get_attribute("value")) == pytest.approx(before + 0.05)


def test_add_your_painting_trains_a_model_that_joins_the_picker(server, browser, tmp_path):
    """Upload a painting with a one-minute budget (seconds here): progress, then the new
    model chosen in the picker and rendering the photo."""

    viewport(browser, 420, 800)  # a phone-sized page: smaller renders, the same flow
    try:
        _add_a_painting(server, browser, tmp_path)
    finally:
        viewport(browser, 1300, 900)


def _add_a_painting(server, browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(server)
    wait_for(browser, "return document.body.dataset.ready === '1'")
    before = canvas(browser)
    browser.find_element(By.CSS_SELECTOR, "#new-style summary").click()
    browser.find_element(By.ID, "ns-start").click()  # no painting chosen yet: said in the page
    wait_for(browser, "return !document.getElementById('ns-message').hidden")  # beside the controls
    assert "Choose your painting" in browser.find_element(By.ID, "ns-message").text

    painting = make_photo(tmp_path / "Water Lilies.png", size=(160, 128), seed=5)
    browser.find_element(By.ID, "ns-file").send_keys(str(painting))
    assert browser.find_element(By.ID, "ns-name").get_attribute("value") == "water-lilies"  # from the file
    Select(browser.find_element(By.ID, "ns-knob")).select_by_value("level")
    assert "painting at full strength" in browser.find_element(By.ID, "ns-knob-note").text
    minutes = browser.find_element(By.ID, "ns-minutes")
    minutes.clear()
    minutes.send_keys("1")
    name = browser.find_element(By.ID, "ns-name")
    name.clear()
    name.send_keys("Water Lilies")
    browser.find_element(By.ID, "ns-start").click()  # the server's word on a bad name
    wait_for(browser, "return document.getElementById('ns-message').textContent.includes('lower-case')")
    name.clear()
    name.send_keys("water-lilies")
    renders = browser.execute_script("return window.previewStats.exactRenders")
    browser.find_element(By.ID, "ns-start").click()
    wait_for(browser, "return !document.getElementById('ns-run').hidden")
    assert browser.find_element(By.ID, "ns-message").get_attribute("hidden")  # the earlier error is cleared
    assert browser.find_element(By.ID, "ns-cancel").is_displayed()
    assert "Training water-lilies" in browser.find_element(By.ID, "ns-label").text
    assert browser.find_element(By.ID, "ns-progress").is_displayed()

    wait_for(browser, "return document.getElementById('model').value === 'water-lilies'", timeout=120)
    options = [o.get_attribute("value") for o in Select(browser.find_element(By.ID, "model")).options]
    assert options[:3] == ["tiny", "faces", "fill"] and options[-1] == "water-lilies"
    assert browser.find_element(By.ID, "ns-run").get_attribute("hidden")
    assert "water-lilies is ready" in browser.find_element(By.ID, "ns-note").text
    assert "Water Lilies" in browser.find_element(By.ID, "explain").text
    stats = browser.execute_script("return window.newStyleStats")
    assert stats["updates"] >= 2 and {"preparing", "training", "measuring"} & set(stats["phases"])
    settle(browser, renders)  # the photo rendered by the new model
    assert np.abs(canvas(browser) - before).mean() > 1.0
