"""Run the load test: `python -m loadtest [--duration 30] [--workers 4]`.

Each database in turn (a scratch SQLite file; PostgreSQL too when DATABASE_URL names one,
e.g. under scripts/with-postgres.sh): set up the data, start gunicorn on 127.0.0.1, log the
users in, let 20 staff save monthly values through the single-cell form while 20 council
members read branch pages and the KPI table, stop, then check the run (loadtest/checks.py).

The import scenario runs in the same window: a head-office admin uploads a 10,000-row
monthly workbook (every value of four national years changed), follows the job that
previews it (a large file), confirms it, and follows the progress page while the import
worker (`manage.py import_worker`) writes it; the staff and
readers go on until the job has finished, and each endpoint's p95 while it ran is reported.
Exits non-zero when a check fails."""

import argparse
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from http.cookies import SimpleCookie
from pathlib import Path

import requests

from loadtest.checks import Ack, Stored, lock_errors, lost_updates, p95, server_errors

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
MAX_REQUESTS_PER_USER = 5_000  # a bound besides the duration
MAX_RETRIES = 5
IMPORT_TIMEOUT = 600  # seconds the import job may take before the run gives up on it
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION_FIELD = re.compile(r'name="version" value="(\d+)"')


def refusal(response: requests.Response) -> str:
    """The messages of a page that refused a save, for the report."""
    box = re.search(r'class="entry-errors".*?</div>', response.text, re.S)
    return re.sub(r"<[^>]+>", " ", box.group(0) if box else "")[:200].strip()


class Client:
    """One person's HTTP session. With DEBUG off the session and CSRF cookies are Secure,
    and requests sends Secure cookies over https only; the server here is plain http on
    loopback, so the client keeps the cookies itself and sends them in the Cookie header."""

    def __init__(self, base: str, record):
        self.base = base
        self.http = requests.Session()
        self.cookies: dict[str, str] = {}
        self.record = record

    def request(
        self, endpoint: str, method: str, path: str, data=None, files=None
    ) -> requests.Response:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        started = time.monotonic()
        response = self.http.request(
            method,
            self.base + path,
            data=data,
            files=files,
            headers=headers,
            allow_redirects=False,
            timeout=120,
        )
        self.record(endpoint, response.status_code, time.monotonic() - started, started)
        for header in response.raw.headers.getlist("Set-Cookie"):
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        self.http.cookies.clear()
        return response

    def log_in(self, username: str, password: str):
        page = self.request("ログイン", "GET", "/accounts/login/")
        token = CSRF_FIELD.search(page.text).group(1)
        data = {"username": username, "password": password, "csrfmiddlewaretoken": token}
        response = self.request("ログイン", "POST", "/accounts/login/", data)
        if response.status_code != 302:
            raise RuntimeError(f"{username} がログインできません（{response.status_code}）")


class Run:
    def __init__(self, base: str, plan: dict, duration: float):
        self.base = base
        self.plan = plan
        self.duration = duration
        self.lock = threading.Lock()
        # endpoint → [(status, seconds, client clock at the request's start)]
        self.samples: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
        self.acks: list[Ack] = []
        # The import scenario: when its job ran (confirm → finished), and how it ended.
        self.import_done = threading.Event()
        self.import_window: tuple[float, float] | None = None
        self.import_outcome: dict = {}
        self.stop_at = 0.0
        self.conflicts = 0
        self.refusals: list[str] = []
        self.errors: list[str] = []
        self.recording = False

    def record(self, endpoint: str, status: int, seconds: float, at: float):
        if self.recording:
            with self.lock:
                self.samples[endpoint].append((status, seconds, at))

    def over(self) -> bool:
        """The load stops after the duration, but not before the import job has finished."""
        return time.monotonic() >= self.stop_at and self.import_done.is_set()

    def staff_loop(self, client: Client, cells: list[dict], seed: int):
        rng = random.Random(seed)
        for n in range(MAX_REQUESTS_PER_USER):
            if self.over():
                return
            cell = rng.choice(cells)
            path = f"/entry/{cell['code']}/{cell['year']}/kpi/{cell['kpi']}/{cell['month']}/"
            # Unique per save, so that every save changes the cell; ≤ 100 for rates.
            text = f"{seed}.{n:04d}"
            for _ in range(MAX_RETRIES):
                page = client.request("セル表示 GET /entry/…/kpi/…/<月>/", "GET", path)
                token = CSRF_FIELD.search(page.text).group(1)
                version = int(VERSION_FIELD.search(page.text).group(1))
                data = {"text": text, "version": version, "csrfmiddlewaretoken": token}
                response = client.request("セル保存 POST /entry/…/kpi/…/<月>/", "POST", path, data)
                if response.status_code == 302:
                    ack = Ack((cell["kpi"], cell["month"]), text, version, time.monotonic())
                    with self.lock:
                        self.acks.append(ack)
                    break
                if response.status_code == 409:  # someone saved first: read again, retry
                    with self.lock:
                        self.conflicts += 1
                    continue
                with self.lock:
                    self.refusals.append(
                        f"{path} {text}: {response.status_code} {refusal(response)}"
                    )
                break

    def reader_loop(self, client: Client, seed: int):
        rng = random.Random(seed)
        for _ in range(MAX_REQUESTS_PER_USER):
            if self.over():
                return
            if rng.random() < 0.5:
                client.request(
                    "支部ページ GET /branches/…/", "GET", rng.choice(self.plan["read_urls"])
                )
            else:
                client.request("KPI一覧 GET /kpis/", "GET", rng.choice(self.plan["table_urls"]))

    def import_loop(self, client: Client, scenario: dict):
        """Upload, confirm (warnings and changes to published plans confirmed), then poll
        the progress until the job is over, as the progress page does."""
        try:
            page = client.request("取り込み GET /imports/", "GET", "/imports/")
            token = CSRF_FIELD.search(page.text).group(1)
            with open(scenario["path"], "rb") as file:
                upload = client.request(
                    "取り込み POST /imports/（プレビュー）",
                    "POST",
                    "/imports/",
                    data={"csrfmiddlewaretoken": token},
                    files={"file": (Path(scenario["path"]).name, file)},
                )
            if upload.status_code != 302:
                raise RuntimeError(f"アップロードが {upload.status_code} を返しました")
            preview = upload.headers["Location"]
            if preview.endswith("/progress/"):  # a large file: a job previews it
                preview = preview.removesuffix("progress/")
                self.follow_job(client, preview, "確認の進捗 GET /imports/<id>/progress.json")
            page = client.request("プレビュー GET /imports/<id>/", "GET", preview)
            token = CSRF_FIELD.search(page.text).group(1)
            data = {"csrfmiddlewaretoken": token, "confirm_warnings": "1"}
            data["confirm_protected"] = "1"
            started = time.monotonic()
            confirm = client.request(
                "確定 POST /imports/<id>/confirm/", "POST", preview + "confirm/", data
            )
            if confirm.status_code != 302 or "/progress/" not in confirm.headers["Location"]:
                raise RuntimeError(f"確定が {confirm.status_code} {confirm.headers} を返しました")
            state = self.follow_job(client, preview, "進捗 GET /imports/<id>/progress.json")
            self.import_window = (started, time.monotonic())
            self.import_outcome = state
        finally:
            self.import_done.set()

    def follow_job(self, client: Client, preview: str, endpoint: str) -> dict:
        """Poll a batch's job as the progress page does, until it is over; its last state."""
        while True:
            state = client.request(endpoint, "GET", preview + "progress.json").json()
            if state["finished"]:
                return state
            time.sleep(0.5)

    def guarded(self, target, *args):
        try:
            target(*args)
        except Exception as error:  # a crashed simulated user is a finding, not a stop
            with self.lock:
                self.errors.append(f"{type(error).__name__}: {error}")

    def go(self) -> float:
        password = self.plan["password"]
        staff = [Client(self.base, self.record) for _ in self.plan["staff"]]
        readers = [Client(self.base, self.record) for _ in self.plan["readers"]]
        for client, person in zip(
            staff + readers, self.plan["staff"] + self.plan["readers"], strict=True
        ):
            client.log_in(person["username"], password)
        cells_by_branch = defaultdict(list)
        for cell in self.plan["cells"]:
            cells_by_branch[cell["code"]].append(cell)
        threads = []
        scenario = self.plan.get("import")
        if scenario:
            admin = Client(self.base, self.record)
            admin.log_in(scenario["admin"], password)
            threads.append(
                threading.Thread(target=self.guarded, args=(self.import_loop, admin, scenario))
            )
        else:
            self.import_done.set()
        self.recording = True
        started = time.monotonic()
        self.stop_at = started + self.duration
        threads += [
            threading.Thread(
                target=self.guarded,
                args=(self.staff_loop, client, cells_by_branch[person["code"]], n + 1),
            )
            for n, (client, person) in enumerate(zip(staff, self.plan["staff"], strict=True))
        ]
        threads += [
            threading.Thread(target=self.guarded, args=(self.reader_loop, client, n))
            for n, client in enumerate(readers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=self.duration + IMPORT_TIMEOUT)
        self.recording = False
        return time.monotonic() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_until_serving(base: str, server: subprocess.Popen, log: Path):
    for _ in range(300):
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn が終了しました:\n{log.read_text()}")
        try:
            requests.get(base + "/accounts/login/", timeout=10)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("gunicorn が起動しません")


def run_database(label: str, database_url: str, args, workdir: Path) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SECRET_KEY": "load-test-only-secret-key-not-for-production",
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
    }
    env.pop("DJANGO_DEBUG", None)
    python = sys.executable
    print(f"[{label}] データを準備しています…", flush=True)
    setup = subprocess.run(
        [
            python,
            "-m",
            "loadtest.data",
            "setup",
            str(args.staff),
            str(args.readers),
            str(args.import_rows),
            str(workdir),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    plan = json.loads(setup.stdout.strip().splitlines()[-1])
    port = free_port()
    base = f"http://{HOST}:{port}"
    log = workdir / f"gunicorn-{label}.log"
    worker_log = workdir / f"worker-{label}.log"
    with log.open("w") as log_file, worker_log.open("w") as worker_file:
        worker = subprocess.Popen(
            [python, "manage.py", "import_worker", "--interval", "0.5"],
            cwd=ROOT,
            env=env,
            stdout=worker_file,
            stderr=subprocess.STDOUT,
        )
        server = subprocess.Popen(
            [
                python,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--workers",
                str(args.workers),
                "--bind",
                f"{HOST}:{port}",
                "--access-logfile",
                "-",
                "--error-logfile",
                "-",
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_serving(base, server, log)
            print(f"[{label}] {args.duration:.0f} 秒間の負荷をかけています…", flush=True)
            run = Run(base, plan, args.duration)
            elapsed = run.go()
        finally:
            server.terminate()
            worker.terminate()
            server.wait(timeout=30)
            worker.wait(timeout=30)
    cells_file = workdir / f"cells-{label}.json"
    cells_file.write_text(json.dumps(plan["cells"]))
    stored = subprocess.run(
        [python, "-m", "loadtest.data", "final", str(cells_file)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    ended = json.loads(stored.stdout.strip().splitlines()[-1])
    final = {
        tuple(int(part) for part in key.split(":")): Stored(text, version)
        for key, (text, version) in ended["cells"].items()
    }
    initial = {(cell["kpi"], cell["month"]): cell["version"] for cell in plan["cells"]}
    statuses = [status for samples in run.samples.values() for status, _, _ in samples]
    return {
        "label": label,
        "elapsed": elapsed,
        "samples": run.samples,
        "server_errors": server_errors(statuses),
        "lock_errors": lock_errors(log.read_text()),
        "lost_updates": lost_updates(run.acks, initial, final),
        "acks": len(run.acks),
        "cells": len(plan["cells"]),
        "conflicts": run.conflicts,
        "refusals": run.refusals,
        "client_errors": run.errors,
        "import": plan.get("import"),
        "import_window": run.import_window,
        "import_outcome": run.import_outcome,
        "batch": ended["batch"],
        "worker_log": worker_log.read_text()[-2000:],
    }


def report(result: dict, args) -> bool:
    print(f"\n### {result['label']}\n")
    print(
        f"CPU {os.cpu_count()} / gunicorn workers {args.workers} / 職員 {args.staff} 人・"
        f"閲覧者 {args.readers} 人 / {result['elapsed']:.1f} 秒\n"
    )
    print("| エンドポイント | リクエスト数 | req/s | p95 (ms) |")
    print("|---|---:|---:|---:|")
    total = 0
    for endpoint, samples in sorted(result["samples"].items()):
        if endpoint == "ログイン":
            continue
        total += len(samples)
        rps = len(samples) / result["elapsed"]
        latency = p95([seconds for _, seconds, _ in samples]) * 1000
        print(f"| {endpoint} | {len(samples)} | {rps:.1f} | {latency:.0f} |")
    print(f"| 合計 | {total} | {total / result['elapsed']:.1f} | |\n")
    import_checks = report_import(result) if result["import"] else []
    checks = [
        ("5xx 応答", result["server_errors"] == 0, f"{result['server_errors']} 件"),
        (
            "サーバーログの database is locked",
            not result["lock_errors"],
            f"{len(result['lock_errors'])} 行",
        ),
        (
            "失われた更新",
            not result["lost_updates"],
            f"{len(result['lost_updates'])} 件（受け付けた保存 {result['acks']} 件、"
            f"{result['cells']} セル、競合で再読込 {result['conflicts']} 回）",
        ),
        ("保存の拒否（409 以外）", not result["refusals"], f"{len(result['refusals'])} 件"),
        (
            "クライアントの異常終了",
            not result["client_errors"],
            f"{len(result['client_errors'])} 件",
        ),
        *import_checks,
    ]
    print("| 確認 | 結果 | 詳細 |")
    print("|---|---|---|")
    for name, passed, detail in checks:
        print(f"| {name} | {'OK' if passed else 'NG'} | {detail} |")
    for line in (
        result["lost_updates"][:10]
        + result["lock_errors"][:5]
        + result["refusals"][:5]
        + result["client_errors"][:5]
    ):
        print(f"  - {line}")
    return all(passed for _, passed, _ in checks)


def report_import(result: dict) -> list[tuple[str, bool, str]]:
    """The import scenario: p95 of each endpoint while the job ran, and whether it finished."""
    scenario, window, batch = result["import"], result["import_window"], result["batch"]
    print(
        f"取り込み: {scenario['rows']:,} 行（見出しを含む）・{scenario['values']:,} 値の月次実績"
        "（全値を変更）"
    )
    if window:
        start, end = window
        print(f"確定からジョブ終了まで {end - start:.1f} 秒。その間の各エンドポイント:\n")
        print("| エンドポイント（取り込み中） | リクエスト数 | p95 (ms) |")
        print("|---|---:|---:|")
        for endpoint, samples in sorted(result["samples"].items()):
            during = [seconds for _, seconds, at in samples if start <= at <= end]
            if during and endpoint != "ログイン":
                print(f"| {endpoint} | {len(during)} | {p95(during) * 1000:.0f} |")
        print()
    committed = batch.get("status") == "committed"
    if not committed:
        print(result["worker_log"])
    for line in result["worker_log"].splitlines():
        if "prepared in" in line or "transaction took" in line:  # the job's phases
            print(f"  ワーカー: {line.strip()}")
    detail = f"取り込み #{batch.get('pk')}: {batch.get('status')} {batch.get('errors') or ''}"
    return [("取り込みジョブの完了", committed and bool(window), detail)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=float, default=30, help="秒（1 データベースあたり、最大 60）"
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--staff", type=int, default=20)
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument(
        "--import-rows",
        type=int,
        default=10_000,
        help="取り込むブックの行数（見出しを含む、0 で取り込みなし）",
    )
    args = parser.parse_args()
    args.duration = min(args.duration, 60)
    databases = []
    if os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql")):
        databases.append(("PostgreSQL", os.environ["DATABASE_URL"]))
    ok = True
    with tempfile.TemporaryDirectory(prefix="kpi-loadtest-") as tmp:
        workdir = Path(tmp)
        databases.insert(0, ("SQLite", f"sqlite:///{workdir / 'loadtest.sqlite3'}"))
        for label, url in databases:
            ok = report(run_database(label, url, args, workdir), args) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
