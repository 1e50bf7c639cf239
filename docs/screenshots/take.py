"""Screenshots of every main page of the demo, for the README's gallery, in Debian's Chromium.

    python docs/screenshots/take.py                           # a fresh demo in a temporary database
    python docs/screenshots/take.py --url http://127.0.0.1:8000   # the demo `make run` serves
    python docs/screenshots/take.py --only admin-segment-builder,member-card --out /tmp/shots

It reaches each page as a person would (signs in as the demo's staff user and as Ana, the demo member,
searches and clicks), so it needs no ids and works against any demo. A page that answers with an error,
or that scrolls sideways on a phone, is reported and makes the script exit with status 1.

To add a page: one `Shot` in SHOTS (a name, who looks at it, how to get there, the widths). The
browser tests run every shot into a temporary folder (tests/members/pages/test_browser_member.py), so a
shot that stops working fails the suite; only this script writes into docs/screenshots.
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
STAFF = ("admin", "fidelis-demo")  # members/demo.py ADMIN_USERNAME, ADMIN_PASSWORD
MEMBER = ("ana@example.com", "fidelis-member")  # members/auth.py DEMO_MEMBER_EMAIL, DEMO_MEMBER_PASSWORD
PHONE = 375
# Long pages are cut here: a gallery image, not an archive of the page.
MAX_HEIGHT = 2400


@dataclass(frozen=True)
class Shot:
    name: str
    who: str  # "staff" or "member"
    go: Callable  # (page) -> None: gets there, waits for what the picture must show
    widths: tuple[int, ...] = (1280,)
    element: str | None = None  # a CSS selector: the picture of that part only

    def filename(self, width: int) -> str:
        return f"{self.name}.png" if width == 1280 else f"{self.name}-{width}.png"


def _path(path: str, ready: str | None = None) -> Callable:
    def go(page) -> None:
        page.goto(path)
        if ready:
            page.locator(ready).first.wait_for()

    return go


def _open_first_result(changelist: str, query: str, then: str | None = None) -> Callable:
    """Search an admin list and open the first row (then follow a link on its page)."""

    def go(page) -> None:
        page.goto(f"{changelist}?q={query}")
        page.locator("#result_list tbody tr th a, #result_list tbody tr td a").first.click()
        page.wait_for_load_state()
        if then:
            page.get_by_role("link", name=then).first.click()
            page.wait_for_load_state()

    return go


def _campaign_preview(page) -> None:
    _open_first_result("/admin/campaigns/campaign/", "Spring catalog", "Preview and test send")(page)
    page.get_by_test_id("preview-subject").wait_for()


def _campaign_confirm(page) -> None:
    _campaign_preview(page)
    page.get_by_role("link", name="Review and launch").click()
    page.get_by_test_id("launch-summary").wait_for()


def _segment_builder(page) -> None:
    _open_first_result("/admin/campaigns/segment/", "Lapsed high spenders")(page)
    page.locator("#segment-live [data-count]").filter(has_text="…").wait_for(state="detached")


def _feedback_by_segment(page) -> None:
    page.goto("/admin/feedback/segments/")
    segment = page.locator("select[name='segment']")
    segment.select_option(label="Active shoppers")
    if page.locator("svg.chart").count() == 0:  # a form without the auto-submit script
        page.locator(".dashboard-filters [type=submit]").click()
    page.locator("svg.chart").first.wait_for()


def _member_survey(page) -> None:
    page.goto("/feedback/")
    page.locator("a[href*='/feedback/s/']").first.click()
    page.wait_for_load_state()


def _member_voucher(page) -> None:
    page.goto("/rewards/vouchers/")
    vouchers = page.locator("main a[href*='/rewards/vouchers/']")
    if vouchers.count():
        vouchers.first.click()
    else:  # Ana holds no voucher in this demo: she redeems the first reward she can afford, as she would
        page.goto("/rewards/")
        page.get_by_role("link", name=re.compile(r"^Redeem ")).first.click()
        page.locator("main form [type=submit]").first.click()
    page.get_by_test_id("voucher-code").wait_for()


BOTH = (1280, PHONE)
SHOTS = [
    # Staff (Django admin)
    Shot("admin-dashboard", "staff", _path("/admin/", ".kpi-cards .kpi"), BOTH),
    Shot("admin-members", "staff", _path("/admin/members/member/", "#result_list")),
    Shot(
        "admin-member-360",
        "staff",
        _open_first_result("/admin/members/member/", MEMBER[0], "360° view"),
        BOTH,
    ),
    Shot("admin-campaign-preview", "staff", _campaign_preview),
    Shot("admin-campaign-confirm", "staff", _campaign_confirm, BOTH),
    Shot("admin-tickets", "staff", _path("/admin/feedback/ticket/", "#result_list")),
    Shot("admin-ticket", "staff", _open_first_result("/admin/feedback/ticket/", "")),
    Shot("admin-surveys", "staff", _path("/admin/feedback/survey/", "#result_list")),
    Shot("admin-catalog", "staff", _path("/admin/rewards/reward/", "#result_list")),
    Shot("admin-segment-builder", "staff", _segment_builder, BOTH),
    Shot("admin-feedback-by-segment", "staff", _feedback_by_segment),
    # Members
    Shot("member-dashboard", "member", _path("/", "[data-testid=points-available]"), BOTH),
    Shot("member-history", "member", _path("/history/", "main table"), BOTH),
    Shot("member-rewards", "member", _path("/rewards/", "main"), BOTH),
    Shot("member-voucher", "member", _member_voucher, BOTH),
    Shot("member-referrals", "member", _path("/referrals/", "main"), BOTH),
    Shot("member-survey", "member", _member_survey, BOTH),
    Shot("member-complaint", "member", _path("/feedback/", "main form"), BOTH),
    Shot("member-card", "member", _path("/", "[data-testid=card-qr]"), BOTH, element=".member-card"),
]


def _sign_in(page, who: str) -> None:
    if who == "staff":
        page.goto("/admin/login/")
        page.locator("#id_username").fill(STAFF[0])
        page.locator("#id_password").fill(STAFF[1])
        page.locator("#login-form [type=submit]").click()
        page.locator("#site-name").wait_for()
    else:
        page.goto("/signin/")
        page.get_by_label("Email", exact=True).fill(MEMBER[0])
        page.get_by_label("Password (optional)").fill(MEMBER[1])
        page.get_by_role("main").get_by_role("button", name="Sign in").click()
        page.get_by_test_id("points-available").wait_for()


def take(*, browser, base_url: str, out: Path, only: set[str] | None = None) -> list[str]:
    """Take the shots (all, or those named) into `out`; returns the problems found (empty: all good)."""
    out.mkdir(parents=True, exist_ok=True)
    problems = []
    for who in ("staff", "member"):
        shots = [s for s in SHOTS if s.who == who and (not only or s.name in only)]
        for width in sorted({w for s in shots for w in s.widths}, reverse=True):
            context = browser.new_context(
                base_url=base_url, viewport={"width": width, "height": 900}, locale="en-GB", reduced_motion="reduce"
            )
            if who == "staff":  # the admin's sidebar folded, as staff can keep it: the lists get the width
                context.add_init_script("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
            page = context.new_page()
            page.set_default_timeout(30_000)
            statuses = []
            page.on("response", lambda r: statuses.append(r) if r.request.is_navigation_request() else None)  # noqa: B023
            try:
                _sign_in(page, who)
                for shot in (s for s in shots if width in s.widths):
                    statuses.clear()
                    try:
                        shot.go(page)
                        page.wait_for_load_state("networkidle")
                    except Exception as exc:  # report the page and go on with the others
                        problems.append(f"{shot.name} at {width}px: {type(exc).__name__}: {str(exc)[:300]}")
                        continue
                    failed = [f"{r.status} {r.url}" for r in statuses if r.status >= 400]
                    if failed:
                        problems.append(f"{shot.name} at {width}px: {', '.join(failed)}")
                    sideways = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                    if width == PHONE and sideways > 1:
                        problems.append(f"{shot.name} at {width}px scrolls {sideways}px sideways")
                    path = out / shot.filename(width)
                    if shot.element:
                        page.locator(shot.element).first.screenshot(path=str(path))
                    else:
                        height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT)
                        page.screenshot(
                            path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height}
                        )
            finally:
                context.close()
    return problems


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_fresh_demo(folder: Path) -> tuple[subprocess.Popen, str]:
    """migrate + seed_demo into a new SQLite file, then runserver on a free port."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'demo.sqlite3'}",
        "DEBUG": "true",
        "AXES_ENABLED": "false",
    }
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        subprocess.run([*manage, *command], env=env, check=True, cwd=BASE_DIR, stdout=subprocess.DEVNULL)  # noqa: S603
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - our own manage.py
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], env=env, cwd=BASE_DIR, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=2)  # noqa: S310 - loopback
            return server, url
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("the demo server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running demo (default: serve a fresh one)")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--only", help="comma-separated shot names: " + ", ".join(s.name for s in SHOTS))
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    unknown = (only or set()) - {s.name for s in SHOTS}
    if unknown:
        parser.error(f"no such shot: {', '.join(sorted(unknown))}")

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        server, url = (None, args.url.rstrip("/")) if args.url else _serve_fresh_demo(Path(folder))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                problems = take(browser=browser, base_url=url, out=args.out, only=only)
                browser.close()
        finally:
            if server:
                server.terminate()
                server.wait()
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(list(args.out.glob('*.png')))} screenshots in {args.out}; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
