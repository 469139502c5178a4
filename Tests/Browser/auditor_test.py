#!/usr/bin/env python3
"""The auditor's page in a real headless Chromium: a simulated device records a session; an auditor signs
in, filters the recordings, opens the session, seeks by clicking the timeline, steps with the keys, plays
and pauses, toggles the overlay, verifies, exports, and switches the language. Screenshots saved.

    python3 Tests/Browser/auditor_test.py [--herdlens .build/debug/herdlens] [--screenshots out]
"""
import argparse
import os
import shutil
import tempfile

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from harness import ROOT, Checks, chromium, run, serve, stop

STREAM = "farm-jx-017.cam-2"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--herdlens", default=os.path.join(ROOT, ".build", "debug", "herdlens"))
    p.add_argument("--screenshots", default=os.path.join(ROOT, "out"))
    a = p.parse_args()
    data = tempfile.mkdtemp(prefix="herd-auditor-")
    server = driver = None
    check = Checks("auditor browser")

    try:
        auditor = run(a.herdlens, "token", "issue", "--data", data, "--role", "auditor", "--name", "Auditor Lee")
        device_token = run(a.herdlens, "token", "issue", "--data", data, "--role", "device", "--stream", STREAM)
        server, port = serve(a.herdlens, data)
        # One recorded session: the sample frames once, at 8 fps, opened and ended by the device.
        run(a.herdlens, "simulate", "--server", f"ws://127.0.0.1:{port}", "--token", device_token, "--stream", STREAM,
            "--fps", "8", "--session", "SampleFrames/frames")
        driver = chromium(1400, 1000, console=True)
        wait = WebDriverWait(driver, 30)
        driver.get(f"http://127.0.0.1:{port}/")
        wait.until(lambda d: d.find_element(By.ID, "signin").is_displayed())
        driver.find_element(By.ID, "token").send_keys(auditor)
        driver.find_element(By.ID, "signin-button").click()
        # An auditor lands on the recordings, not the live grid.
        row = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#sessions tbody tr"))
        check(driver.find_element(By.ID, "recordings").is_displayed() and not driver.find_element(By.ID, "grid").is_displayed(),
              "an auditor sees the recordings, never the live grid")
        check(STREAM in row.text, f"the recorded session is listed: {row.text}")
        # Filters: a plate that matches nothing, then the stream.
        driver.find_element(By.ID, "f-plate").send_keys("NO-SUCH")
        driver.find_element(By.ID, "f-search").click()
        wait.until(lambda d: d.find_element(By.ID, "sessions-empty").is_displayed())
        check(len(driver.find_elements(By.CSS_SELECTOR, "#sessions tbody tr")) == 0, "a filter that matches nothing lists nothing")
        driver.find_element(By.ID, "f-plate").clear()
        driver.find_element(By.ID, "f-stream").send_keys(STREAM)
        driver.find_element(By.ID, "f-search").click()
        row = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f"#sessions tbody tr"))
        session = row.get_attribute("data-session")
        driver.save_screenshot(os.path.join(a.screenshots, "auditor-sessions.png"))
        row.click()
        frame = driver.find_element(By.ID, "replay-frame")
        wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", frame) > 0)
        check(frame.get_attribute("data-seq") == "1", f"the first frame is shown paused (seq {frame.get_attribute('data-seq')})")
        wait.until(lambda d: "#1" in d.find_element(By.ID, "p-position").text)
        check(len(driver.find_elements(By.CSS_SELECTOR, "#p-summary dt")) >= 5, "the session summary is shown")
        # Seek: click near the end of the timeline.
        timeline = driver.find_element(By.ID, "timeline")
        ActionChains(driver).move_to_element_with_offset(timeline, int(timeline.size["width"] * 0.45), 0).click().perform()
        wait.until(lambda d: d.find_element(By.ID, "replay-frame").get_attribute("data-seq") not in ("1", None))
        sought = int(driver.find_element(By.ID, "replay-frame").get_attribute("data-seq"))
        check(sought > 1, f"a click on the timeline seeks (seq {sought})")
        # Step with the keys: right, right, left.
        body = driver.find_element(By.TAG_NAME, "body")
        seq = lambda d: d.find_element(By.ID, "replay-frame").get_attribute("data-seq")
        body.send_keys(Keys.ARROW_RIGHT)
        stepped = WebDriverWait(driver, 10).until(lambda d: seq(d) if seq(d) != str(sought) else None)
        check(stepped == str(sought + 1), f"→ steps one frame forward ({sought} to {stepped})")
        body.send_keys(Keys.ARROW_LEFT)
        back = WebDriverWait(driver, 10).until(lambda d: seq(d) if seq(d) != stepped else None)
        check(back == str(sought), f"← steps one frame back ({stepped} to {back})")
        # Overlay off: the same frame again, now the original.
        driver.find_element(By.ID, "p-overlay").click()
        wait.until(lambda d: d.find_element(By.ID, "replay-frame").get_attribute("data-overlay") == "false")
        check(driver.find_element(By.ID, "replay-frame").get_attribute("data-seq") == str(sought), "the overlay switch shows the same frame")
        # Play at 16x to the end.
        Select(driver.find_element(By.ID, "p-speed")).select_by_visible_text("16")
        driver.find_element(By.ID, "p-play").click()
        wait.until(lambda d: d.find_element(By.ID, "p-state").text == "ended")
        check(driver.find_element(By.ID, "replay-frame").get_attribute("data-seq") == "8", "played to the last frame")
        # Verify.
        driver.find_element(By.ID, "p-verify").click()
        wait.until(lambda d: "verified" in d.find_element(By.ID, "p-badge").text or "FAILED" in d.find_element(By.ID, "p-badge").text)
        check(driver.find_element(By.ID, "p-badge").text.startswith("verified"), f"verify badge: {driver.find_element(By.ID, 'p-badge').text}")
        # Export: both links answer with the file, through the page's own session.
        for link, magic in [("p-export-bundle", "PK"), ("p-export-mcap", "\x89MCAP")]:
            href = driver.find_element(By.ID, link).get_attribute("href")
            head = driver.execute_script(
                "return fetch(arguments[0]).then(r => r.arrayBuffer()).then(b => String.fromCharCode(...new Uint8Array(b.slice(0, 5))) + '|' + b.byteLength)", href)
            check(head.startswith(magic) and int(head.split("|")[1]) > 100000, f"{link} downloads ({head[:12]!r})")
        driver.save_screenshot(os.path.join(a.screenshots, "auditor-player.png"))
        # Language: Traditional, then Simplified Chinese.
        Select(driver.find_element(By.ID, "language")).select_by_value("zh-Hant")
        check(driver.find_element(By.ID, "p-verify").text == "驗證" and driver.find_element(By.ID, "p-play").text == "播放", "Traditional Chinese labels")
        Select(driver.find_element(By.ID, "language")).select_by_value("zh-Hans")
        check(driver.find_element(By.ID, "p-verify").text == "验证" and driver.find_element(By.ID, "p-export-bundle").text == "证据包（ZIP）", "Simplified Chinese labels")
        driver.save_screenshot(os.path.join(a.screenshots, "auditor-player-zh.png"))
        Select(driver.find_element(By.ID, "language")).select_by_value("en")
        # The audit log saw it all (replay.end follows when the player's socket closes; the server test
        # checks it).
        audit = run(a.herdlens, "audit", "list", "--data", data, "--session", session)
        for action in ["replay.start", "verify", "export"]:
            check(f'"action":"{action}"' in audit, f"audit log holds {action}")
        # Script errors only: the sign-in probe's 401 before sign-in is a network entry (the console issue fixes it).
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and e.get("source") != "network"]
        check(not errors, f"no script errors in the browser console: {errors}")
    except Exception as e:  # a broken step is a failure, reported, not a crash of the runner
        check.broke(e)
    finally:
        if driver:
            driver.quit()
        stop(server)
        shutil.rmtree(data, ignore_errors=True)
    check.finish()


if __name__ == "__main__":
    main()
