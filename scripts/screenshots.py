"""Screenshots of the reading pages on the demo data, with headless Chromium.

    .venv/bin/python scripts/screenshots.py [--out /tmp/screens] [--chromium /usr/bin/chromium]

Builds a throwaway SQLite database (migrate, load_demo, create_demo_users), serves it with
runserver on a free loopback port, logs in through the login form as the demo council
member (and as the demo admin for the unpublished draft) and saves PNGs: the screen
layout, the print layout (print stylesheet, A4 width) and a PDF of a branch page. Uses the
Chromium installed from Debian (scripts/ensure-chromium.sh) through Playwright (the test
extra); it never downloads a browser.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "demo-pass-2024"  # the local demo accounts of create_demo_users
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]
A4_WIDTH = 794  # px at 96 dpi

# (file name, user, path, full page)
SHOTS = [
    ("home", "council", "/?year=2023", False),
    ("branch-saitama-2023", "council", "/branches/11/2023/", False),
    ("branch-saitama-2023-full", "council", "/branches/11/2023/", True),
    ("branch-gunma-2023", "council", "/branches/10/2023/", False),
    ("branch-chiba-2024-draft", "admin", "/branches/12/2024/", False),
    ("kpi-table", "council", "/kpis/", False),
    ("kpi-table-filtered", "council", "/kpis/?fiscal_year=2023&pillar=2&sort=-actual", False),
    ("indicators", "council", "/indicators/", False),
]
COMPARISON_OF = "ジェネリック医薬品使用割合"
PRINTED = ("branch-gunma-2023-print", "council", "/branches/10/2023/")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *args):
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server did not answer at {url}")


def log_in(browser, base: str, username: str):
    context = browser.new_context(viewport={"width": 1280, "height": 2000}, locale="ja-JP")
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def take(out: Path, base: str, chromium: str) -> list[Path]:
    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        pages = {user: log_in(browser, base, user) for user in ("council", "admin")}
        for name, user, path, full in SHOTS:
            page = pages[user]
            page.goto(base + path)
            saved.append(out / f"{name}.png")
            page.screenshot(path=saved[-1], full_page=full)
        page = pages["council"]
        page.goto(f"{base}/indicators/")
        page.locator("tr", has_text=COMPARISON_OF).locator("a").first.click()
        saved.append(out / "indicator-compare.png")
        page.screenshot(path=saved[-1])

        name, user, path = PRINTED
        page = pages[user]
        page.set_viewport_size({"width": A4_WIDTH, "height": 1123})
        page.goto(base + path)
        page.emulate_media(media="print")
        saved.append(out / f"{name}.png")
        page.screenshot(path=saved[-1])  # about the first A4 page
        saved.append(out / f"{name}.pdf")
        page.pdf(path=saved[-1], format="A4", print_background=True, prefer_css_page_size=True)
        browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/screens"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as workdir:
        env = {
            **os.environ,
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{workdir}/screens.sqlite3",
        }
        manage(env, "migrate", "--noinput")
        manage(env, "load_demo")
        manage(env, "create_demo_users")
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(f"{base}/accounts/login/")
            for path in take(options.out, base, options.chromium):
                print(path)
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
