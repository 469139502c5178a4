#!/usr/bin/env python3
"""The web viewer in a real headless Chromium: sign in with a token, see a live frame from a simulated
device, take a screenshot. Needs Debian's chromium + chromium-driver and Python selenium.

    python3 Tests/Browser/viewer_test.py [--herdlens .build/debug/herdlens] [--screenshot out/viewer.png]
"""
import argparse
import os
import shutil
import subprocess
import tempfile
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from harness import ROOT, Checks, chromium, run, serve, stop


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--herdlens", default=os.path.join(ROOT, ".build", "debug", "herdlens"))
    p.add_argument("--screenshot", default=os.path.join(ROOT, "out", "viewer.png"))
    a = p.parse_args()
    data = tempfile.mkdtemp(prefix="herd-browser-")
    server = device = driver = None
    check = Checks("browser")

    try:
        inspector = run(a.herdlens, "token", "issue", "--data", data, "--role", "inspector", "--stream", "*", "--name", "Inspector Chan")
        device_token = run(a.herdlens, "token", "issue", "--data", data, "--role", "device", "--stream", "farm-jx-017.cam-1")
        server, port = serve(a.herdlens, data)
        device = subprocess.Popen([a.herdlens, "simulate", "--server", f"ws://127.0.0.1:{port}", "--token", device_token,
                                   "--stream", "farm-jx-017.cam-1", "--fps", "4", "--loop", "SampleFrames/frames"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        driver = chromium()
        wait = WebDriverWait(driver, 30)
        # Let the device come online so the grid lists its stream.
        time.sleep(2)
        driver.get(f"http://127.0.0.1:{port}/")
        wait.until(lambda d: d.find_element(By.ID, "signin").is_displayed())
        driver.find_element(By.ID, "token").send_keys(inspector)
        driver.find_element(By.ID, "signin-button").click()
        tile = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".tile[data-stream='farm-jx-017.cam-1'] img.frame"))
        # The width of a loaded frame, read in the same call that sees it loaded: the next frame may replace
        # the image (naturalWidth 0 while it loads) between two calls.
        width = wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", tile))
        # The grid asks for maxWidth=640: 720p frames come at 640, 1080p ones at 480 (libjpeg scales by 1/2^n).
        check(width in (480, 640), f"grid tile shows a frame scaled to fit 640 (got {width})")
        check(inspector not in driver.current_url, "the token never appears in the URL")
        cookie = driver.get_cookie("herd_session")
        check(cookie is not None and cookie.get("httpOnly"), "the session cookie is HttpOnly")
        check(driver.execute_script("return document.cookie").find("herd_session") < 0, "page scripts cannot read the session cookie")
        # Non-blank: the frame has real pixel variation.
        variance = driver.execute_script("""
            const img = arguments[0]; const c = document.createElement('canvas');
            c.width = img.naturalWidth; c.height = img.naturalHeight;
            const g = c.getContext('2d'); g.drawImage(img, 0, 0);
            const d = g.getImageData(0, 0, c.width, c.height).data; let lo = 255, hi = 0;
            for (let i = 0; i < d.length; i += 4 * 97) { lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); }
            return hi - lo;""", tile)
        check(variance > 50, f"the frame is not blank (range {variance})")
        # Single-stream view: full-size frame, HUD, connection state, fps.
        driver.find_element(By.CSS_SELECTOR, ".tile[data-stream='farm-jx-017.cam-1']").click()
        single = driver.find_element(By.ID, "single-frame")
        wait.until(lambda d: d.execute_script("return arguments[0].naturalWidth", single) >= 1280)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#hud dt")) > 3)
        hud = driver.find_element(By.ID, "hud").text
        check("Plate" in hud and "粤B·12345" in hud, "the HUD shows the plate")
        check(driver.find_element(By.ID, "connection").text == "online", "connection state is online")
        wait.until(lambda d: float(d.find_element(By.ID, "single-fps").text or 0) > 0)
        os.makedirs(os.path.dirname(a.screenshot), exist_ok=True)
        driver.save_screenshot(a.screenshot)
        check(os.path.getsize(a.screenshot) > 10000, "screenshot saved")
        # Revoking the inspector's token (another process, as an admin would) ends the open view: the
        # socket closes with 1008 and the page returns to sign-in, saying why.
        listing = run(a.herdlens, "token", "list", "--data", data)
        token_id = next(line.split("\t")[0] for line in listing.splitlines() if "\tInspector Chan\t" in line)
        run(a.herdlens, "token", "revoke", "--data", data, token_id)
        wait.until(lambda d: d.find_element(By.ID, "signin").is_displayed())
        check("revoked" in driver.find_element(By.ID, "signin-error").text, "the page says the token was revoked")
        check(driver.find_element(By.ID, "connection").text == "offline", "connection state is offline")
        check(driver.execute_script("return fetch('/api/v1/session').then(r => r.status)") == 401, "the browser session is gone")
    except Exception as e:  # a broken step is a failure, reported, not a crash of the runner
        check.broke(e)
    finally:
        if driver:
            driver.quit()
        stop(device, server)
        shutil.rmtree(data, ignore_errors=True)
    check.finish()


if __name__ == "__main__":
    main()
