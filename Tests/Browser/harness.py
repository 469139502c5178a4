"""What the browser tests share: running herdlens, a server on a free port, headless Chromium, and
counted checks (a broken step is a failure, reported, never a crash of the runner)."""
import os
import shutil
import subprocess
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(herdlens, *args):
    return subprocess.run([herdlens, *args], check=True, capture_output=True, text=True, cwd=ROOT, timeout=300).stdout.strip()


def serve(herdlens, data):
    """`herdlens serve` on a free port; returns the process and the port it printed."""
    # HERD_TEST_SERVER_LOG=FILE keeps the server's log (info and up) for a failing run.
    log = os.environ.get("HERD_TEST_SERVER_LOG")
    server = subprocess.Popen([herdlens, "serve", "--data", data, "--port", "0", "--log-level", "info" if log else "warning"],
                              stdout=subprocess.PIPE, stderr=open(log, "w") if log else subprocess.DEVNULL, text=True, cwd=ROOT)
    return server, int(server.stdout.readline().strip().rsplit(":", 1)[1])


def chromium(width=1400, height=900, console=False):
    """Headless Debian Chromium through chromedriver; `console` keeps the browser log for the test."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", f"--window-size={width},{height}", "--disable-dev-shm-usage"]:
        options.add_argument(arg)
    if console:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)


def stop(*processes):
    for proc in processes:
        if proc:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


class Checks:
    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def __call__(self, condition, what):
        if condition:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}", file=sys.stderr)

    def broke(self, error):
        self.failed += 1
        print(f"FAIL: {type(error).__name__}: {error}", file=sys.stderr)

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)
