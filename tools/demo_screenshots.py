"""Screenshots of each view of the demo at 1280 x 800 (docs/demo/), with the shipped models,
and the rates a user sees: the drag preview, the live camera (Chromium's fake camera).

    python tools/demo_screenshots.py [--out docs/demo] [--width 1280 --height 800]

Needs chromium and chromedriver (as the browser tests do).
"""

from __future__ import annotations

import argparse
import io
import shutil
import socket
import threading
import time
from pathlib import Path

from PIL import Image

from dynamicnet.server import create_app


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="docs/demo", help="folder for the screenshots (JPEG)")
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=800)
    p.add_argument("--style", default="starry-level", help="the style model shown")
    return p


def _serve() -> tuple[str, object]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def _browser(width: int, height: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    driver.set_script_timeout(120)
    return driver


def _wait(driver, script: str, timeout: float = 300):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(
        lambda d: d.execute_script(script), message=f"timed out: {script}"
    )


def _settle(driver) -> None:
    """Wait for one more exact render than now, then a little for the page to draw."""
    count = driver.execute_script("return window.previewStats.exactRenders")
    _wait(driver, f"return window.previewStats.exactRenders > {count}")
    time.sleep(0.3)


def _shot(driver, folder: Path, name: str) -> None:
    image = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB")
    path = folder / f"{name}.jpg"
    image.save(path, quality=85, optimize=True)
    print(f"{path} ({path.stat().st_size // 1024} KB)")


def _select(driver, model: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, "model")).select_by_value(model)


def _set_alpha(driver, value: float) -> None:
    driver.execute_script(
        "const s = document.getElementById('alpha'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change'));",
        value,
    )


def main(argv: list[str] | None = None) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    args = get_args_parser().parse_args(argv)
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    base, server = _serve()
    driver = _browser(args.width, args.height)
    try:
        driver.get(base)
        _wait(driver, "return document.body.dataset.ready === '1'")
        _select(driver, args.style)
        _settle(driver)
        _set_alpha(driver, 0.75)
        _settle(driver)
        _shot(driver, folder, "style")
        fps = driver.execute_async_script(
            "const done = arguments[arguments.length - 1], s = document.getElementById('alpha');"
            "window.previewStats.frames = 0; let i = 0;"
            "function step() { s.value = (i % 41) / 40; s.dispatchEvent(new Event('input'));"
            "  if (++i < 120) requestAnimationFrame(step);"
            "  else { const p = window.previewStats; done((p.frames - 1) / ((p.last - p.first) / 1000)); } }"
            "requestAnimationFrame(step);"
        )
        print(f"drag preview: {fps:.0f} frames/s")
        _set_alpha(driver, 0.75)
        _settle(driver)
        driver.find_element(By.ID, "compare").click()
        time.sleep(0.3)
        _shot(driver, folder, "before-after")
        driver.find_element(By.ID, "compare").click()
        driver.find_element(By.ID, "paint").click()
        view = driver.find_element(By.ID, "view")
        size = view.size
        chain = ActionChains(driver).move_to_element_with_offset(
            view, -size["width"] // 4, -size["height"] // 4
        )
        chain.click_and_hold()
        for step in range(1, 12):
            chain.move_to_element_with_offset(
                view, -size["width"] // 4 + step * 25, -size["height"] // 4 + step * 12
            )
        chain.release().perform()
        _settle(driver)
        ActionChains(driver).move_to_element_with_offset(
            view, size["width"] // 5, size["height"] // 6
        ).perform()
        _shot(driver, folder, "brush")
        driver.find_element(By.ID, "paint").click()

        _select(driver, "photo-fill")
        time.sleep(1.0)
        driver.find_element(By.CSS_SELECTOR, "input[name=tool][value=rect]").click()
        ActionChains(driver).move_to_element_with_offset(view, -60, -50).click_and_hold().move_by_offset(
            120, 90
        ).release().perform()
        _settle(driver)
        _shot(driver, folder, "completion")

        gans = driver.execute_script("return state.models.filter((m) => m.task === 'gan').map((m) => m.name)")
        if gans:
            _select(driver, gans[0])
            _settle(driver)
            _set_alpha(driver, 0.6)
            _settle(driver)
            _shot(driver, folder, "faces")
            view = driver.find_element(By.ID, "view")
            size = view.size
            ActionChains(driver).move_to_element_with_offset(
                view, -size["width"] // 2 + size["width"] // 8, -size["height"] // 2 + size["height"] // 8
            ).click().perform()
            _wait(driver, "return !document.getElementById('faceview').hidden")
            time.sleep(0.5)
            _shot(driver, folder, "face-strip")

        _select(driver, args.style)
        _settle(driver)
        _set_alpha(driver, 0.8)
        driver.find_element(By.ID, "camera-toggle").click()
        _wait(driver, "return window.cameraStats.frames >= 30", timeout=300)
        print(f"live camera: {driver.execute_script('return window.cameraStats.fps'):.1f} frames/s at 320 px")
        _shot(driver, folder, "camera")
        driver.find_element(By.ID, "camera-toggle").click()
        _wait(driver, "return !document.body.classList.contains('camera')")
        _settle(driver)

        bad = folder / "not-a-photo.png"
        bad.write_text("this is text")
        try:
            driver.find_element(By.ID, "upload").send_keys(str(bad.resolve()))
            _wait(driver, "return !document.getElementById('message').hidden")
        finally:
            bad.unlink()
        _shot(driver, folder, "error")
    finally:
        driver.quit()
        server.should_exit = True


if __name__ == "__main__":
    main()
