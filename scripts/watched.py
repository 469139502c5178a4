#!/usr/bin/env python3
"""Runs a test command with a deadline, and says what hung when it passes one.

  scripts/watched.py MINUTES -- COMMAND [ARG...]

The command's output is passed through as it comes. A Swift Testing time limit cannot end a test
that does not answer cancellation (the test's task group waits for it), so a hung test would hold
`swift test` until CI's own limit, with nothing to say which test it was. At the deadline this prints
every test and suite that started and did not finish, asks each test process for a backtrace of all
its threads (SIGQUIT, which the Swift runtime's backtracer reports, where it is on: scripts/test.sh turns it
off under ASan), then kills the command's process
group and exits 124, as timeout(1) does. Otherwise it exits with the command's status.
"""
import os
import re
import signal
import subprocess
import sys
import threading
import time

STARTED = re.compile(r'^◇ (Test|Suite) (.+?) started\.')
ENDED = re.compile(r'^[✔✘➜] (Test|Suite) (.+?)(?: with \d+ test cases?)? (?:passed|failed|skipped)\b')


def children(pid: int) -> list[int]:
    """Every descendant of `pid`, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            parents.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def command_name(pid: int) -> str:
    """The basename of the program `pid` runs (/proc/PID/comm is cut at 15 characters)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return os.path.basename(f.read().split(b"\0")[0].decode("utf-8", "replace"))
    except OSError:
        return "?"


def main() -> int:
    args = sys.argv[1:]
    if len(args) < 3 or args[1] != "--":
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    minutes = float(args[0])
    command = args[2:]
    env = dict(os.environ)
    # All threads in a backtrace asked for with SIGQUIT; nothing interactive on CI.
    env.setdefault("SWIFT_BACKTRACE", "enable=yes,interactive=no,threads=all")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    running: dict[str, float] = {}
    lock = threading.Lock()

    def pump() -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode("utf-8", "replace")
            sys.stdout.write(line)
            sys.stdout.flush()
            with lock:
                if m := STARTED.match(line):
                    running[f"{m.group(1)} {m.group(2)}"] = time.monotonic()
                elif m := ENDED.match(line):
                    running.pop(f"{m.group(1)} {m.group(2)}", None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        status = process.wait(timeout=minutes * 60)
        reader.join(timeout=10)
        return status
    except subprocess.TimeoutExpired:
        pass
    now = time.monotonic()
    with lock:
        hung = sorted(running.items(), key=lambda item: item[1])
    print(f"\nwatched.py: {' '.join(command)} passed its {minutes:g} minutes; still running:", flush=True)
    for name, since in hung:
        print(f"  {name} (for {now - since:.0f} s)", flush=True)
    # A backtrace from each test process (not from swift-build or the shell around it).
    for pid in children(process.pid):
        name = command_name(pid)
        if name.endswith(".xctest") or "testing-helper" in name:
            print(f"watched.py: SIGQUIT to {name} ({pid}) for its backtrace", flush=True)
            try:
                os.kill(pid, signal.SIGQUIT)
            except ProcessLookupError:
                pass
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
    reader.join(timeout=10)
    return 124


if __name__ == "__main__":
    sys.exit(main())
