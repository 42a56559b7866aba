"""Tried as a new user would: the real `followthrough` commands, the real server, a real browser.

A fresh installation is made the way `make run` makes it (`followthrough
migrate`, `followthrough loaddemo`, then `followthrough runserver` with
DEBUG=1), in a temporary folder of its own. The demo users are the ones the
command prints: each signs in through the sign-in form, finds their role
named in the workspace and signs out. Then, clicking links and buttons as a
person would:

* the unit focal point records progress inline (htmx) and sees it in the key
  action's timeline; the viewer finds it in the history of changes and its CSV
  export; an anonymous visitor sees it on the public evaluation page;
* a form error (Completed without a comment) shows next to its field;
* the office focal point adds a key action to the demo draft and submits it;
  it stays private until the evaluation office approves it;
* progress updates work without JavaScript;
* two tabs updating the same key action: the second is told of the conflict,
  sees the current status and keeps what it typed.

Every page visited is checked for basic accessibility (labels, one <h1>, a
skip link, alt text), and every request the browser makes must go to the
local server (no CDN). Debian's chromium drives it (`make browser`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

EXE = Path(sys.executable).with_name("followthrough")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSING_CHROMIUM = (
    f"Debian's chromium is needed for the browser tests and is missing at {CHROMIUM}: "
    "run `make browser` to install it."
)
ACTION_TIMEOUT_MS = 10_000  # clicks, fills, navigations
EXPECT_TIMEOUT_MS = 5_000  # assertions that wait for the page

# The role names the workspace shows, as `loaddemo` prints them.
ADMINISTRATOR = "Administrator"
EVALUATION_OFFICE = "Evaluation office"
OFFICE_FOCAL_POINT = "Office focal point"
UNIT_FOCAL_POINT = "Unit focal point"
VIEWER = "Viewer"
DRAFT_MARK = "(demo draft)"


# --- the installation: real commands, a real server ---------------------------------------------


@dataclass
class Demo:
    base: str
    password: str
    users: list[tuple[str, str, str]]  # (username, role, scope) as printed by `followthrough loaddemo`
    var: Path

    def user(self, role: str) -> str:
        names = [u for u, r, _ in self.users if r.lower() == role.lower()]
        assert len(names) == 1, f"loaddemo should print one demo user with the role {role!r}: {self.users}"
        return names[0]


def parse_demo_users(output: str) -> tuple[str, list[tuple[str, str, str]]]:
    """The password and the (username, role, scope) lines `followthrough loaddemo` prints."""
    match = re.search(r"^Demo users \(.*\), password for all: (\S+)\s*$", output, re.M)
    assert match, f"`followthrough loaddemo` printed no demo users:\n{output}"
    users = []
    for line in output[match.end():].splitlines():
        row = re.match(r"^\s+(\S+)\s+(.+?) — (.+?)\s*$", line)
        if row:
            users.append(row.groups())
        elif line.strip():
            break
    return match.group(1), users


def _env(var: Path) -> dict[str, str]:
    # Its own SQLite file and secret key in `var`, whatever the environment of the test run says.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["FOLLOWTHROUGH_VAR_DIR"] = str(var)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(base: str, server: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            pytest.fail(f"`followthrough runserver` exited with {server.returncode}:\n{log.read_text()}", pytrace=False)
        try:
            with urllib.request.urlopen(base + "/", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"the server did not answer on {base} within {timeout:.0f} s:\n{log.read_text()}", pytrace=False)
        time.sleep(0.1)  # polling a port, not waiting on a page


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Demo:
    var = tmp_path_factory.mktemp("followthrough-var")
    env = _env(var)
    for args in (["migrate", "--noinput"], ["loaddemo"]):
        p = subprocess.run([str(EXE), *args], capture_output=True, text=True, env=env, timeout=300)
        assert p.returncode == 0, f"`followthrough {' '.join(args)}` failed:\n{p.stdout}\n{p.stderr}"
    password, users = parse_demo_users(p.stdout)
    assert len(users) >= 5, f"expected one demo user per role, got {users}"

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = var / "runserver.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [str(EXE), "runserver", f"127.0.0.1:{port}", "--noreload"],
            env={**env, "DEBUG": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_up(base, server, log_path)
            yield Demo(base=base, password=password, users=users, var=var)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


# --- the browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def _browser():
    """Debian's chromium driven by Playwright, or why it cannot be (the tests then fail, never skip)."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        yield MISSING_CHROMIUM
        return
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError as exc:  # pragma: no cover - requirements-dev.txt pins it
        yield f"Playwright for Python is not installed ({exc}): run `make install`, then `make browser`."
        return
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:
            yield f"{MISSING_CHROMIUM}\n(chromium at {CHROMIUM} did not start: {exc})"
            return
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def _sessions() -> dict:
    """Signed-in browser state per demo user: each signs in through the form once, then comes back."""
    return {}


A11Y_JS = r"""() => {
  const problems = [];
  const text = (el) => (el ? (el.textContent || '').trim() : '');
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) problems.push(`${h1} <h1> elements, not exactly one`);
  const skip = document.querySelector('a[href="#main"]');
  if (!skip) problems.push('no skip link to #main');
  else if (document.querySelector('body a[href]') !== skip) problems.push('the skip link is not the first link');
  if (!document.getElementById('main')) problems.push('the skip link target #main is missing');
  for (const el of document.querySelectorAll('input, select, textarea')) {
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (type === 'hidden') continue;
    if (['submit', 'button', 'reset', 'image'].includes(type)) {
      if (!(el.value || el.getAttribute('aria-label') || el.getAttribute('alt'))) problems.push(`unnamed ${type} button`);
      continue;
    }
    const byLabel = [...(el.labels || [])].some((l) => text(l));
    const byAria = (el.getAttribute('aria-label') || '').trim()
      || (el.getAttribute('aria-labelledby') || '').split(/\s+/).some((id) => id && text(document.getElementById(id)));
    if (!byLabel && !byAria) problems.push(`form control without a label: <${el.tagName.toLowerCase()} name="${el.name}" id="${el.id}">`);
  }
  for (const b of document.querySelectorAll('button')) {
    if (!(text(b) || (b.getAttribute('aria-label') || '').trim())) problems.push('button without a name');
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push(`image without alt text: ${img.getAttribute('src')}`);
  }
  return problems;
}"""


@dataclass
class Web:
    """The browser as the tests use it: contexts that record their requests, and page checks."""

    request: pytest.FixtureRequest
    browser: object
    sessions: dict
    contexts: list = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def _require_browser(self) -> None:
        if isinstance(self.browser, str):
            pytest.fail(self.browser, pytrace=False)

    @property
    def demo(self) -> Demo:
        self._require_browser()  # fail before starting a server that no browser will visit
        return self.request.getfixturevalue("demo")

    def context(self, *, js: bool = True, storage_state=None):
        self._require_browser()
        ctx = self.browser.new_context(
            java_script_enabled=js, accept_downloads=True, viewport={"width": 1280, "height": 900}, storage_state=storage_state
        )
        ctx.set_default_timeout(ACTION_TIMEOUT_MS)
        ctx.on("request", lambda r: self.requests.append(r.url))
        ctx.on("weberror", lambda e: self.page_errors.append(f"{e.page.url if e.page else '?'}: {e.error}"))
        self.contexts.append(ctx)
        return ctx

    def page(self, *, js: bool = True):
        return self.context(js=js).new_page()

    def check(self, page) -> None:
        """Basic accessibility of the page as it is now."""
        problems = page.evaluate(A11Y_JS)
        assert not problems, f"accessibility problems on {page.url}: {problems}"
        self.checked.append(page.url)

    def sign_in(self, page, username: str) -> None:
        """Through the sign-in form, typing, as a person does; lands on the workspace."""
        base = self.demo.base
        page.goto(base + "/accounts/login/")
        self.check(page)
        page.get_by_label("Username", exact=True).press_sequentially(username)
        page.get_by_label("Password", exact=True).press_sequentially(self.demo.password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(base + "/workspace/")
        self.check(page)

    def as_user(self, username: str, *, js: bool = True):
        """A page in the workspace of this demo user: signed in through the form the first time,
        then coming back to the app signed in (home page, then the Workspace link)."""
        base = self.demo.base
        state = self.sessions.get(username)
        if state is None:
            page = self.page(js=js)
            self.sign_in(page, username)
            self.sessions[username] = page.context.storage_state()
            return page
        page = self.context(js=js, storage_state=state).new_page()
        page.goto(base + "/")
        self.check(page)
        nav(page, "Workspace").click()
        page.wait_for_url(base + "/workspace/")
        expect(page.locator("main p", has_text="Signed in as")).to_contain_text(f"Signed in as {username}:")
        self.check(page)
        return page

    def finish(self) -> None:
        """Nothing fetched from anywhere but the local server, and no script error."""
        foreign = sorted({u for u in self.requests if urlsplit(u).hostname != "127.0.0.1"})
        assert not foreign, f"requests to hosts other than 127.0.0.1 (a CDN?): {foreign}"
        assert self.requests, "no request was recorded"
        assert not self.page_errors, f"script errors in the pages: {self.page_errors}"

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()


@pytest.fixture
def web(request, _browser, _sessions):
    w = Web(request=request, browser=_browser, sessions=_sessions)
    yield w
    w.close()


def expect(target, message: str | None = None):
    from playwright.sync_api import expect as _expect

    return _expect(target, message)


def posting_update(page):
    """Wait for the answer to a progress form post (to say what the server answered when a check fails)."""
    return page.expect_response(lambda r: r.request.method == "POST" and re.search(r"/actions/\d+/update/$", r.url))


# --- helpers for pages ----------------------------------------------------------------------------


def nav(page, name: str):
    """A link of the main navigation."""
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def my_action(web: Web, page, n: int) -> dict:
    """The n-th key action (by id) of an approved evaluation in My actions, as the page shows it.

    Tests use different key actions, so they do not depend on each other's order.
    """
    nav(page, "My actions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My key actions")
    web.check(page)
    rows = page.locator("main tbody tr[id^='key-action-']")
    expect(rows.first).to_be_visible()
    found = rows.evaluate_all(
        """rows => rows.map(row => {
             const pk = Number(row.id.split('-').pop());
             const evaluation = row.cells[1].querySelector('a');
             // The link names the action as lists across evaluations do: "Evaluation title — 1.2".
             const link = row.cells[0].querySelector('a').textContent.trim();
             return {pk, link, number: link.split(' — ').pop(),
                     status: row.querySelector(`#status-${pk} .badge`).textContent.trim(),
                     evaluation_title: evaluation.textContent.trim(),
                     evaluation_href: evaluation.getAttribute('href')};
           })"""
    )
    found = [a for a in found if DRAFT_MARK not in a.pop("evaluation_title")]
    found.sort(key=lambda a: a["pk"])
    assert len(found) > n, f"the unit focal point has too few key actions of approved evaluations: {found}"
    return found[n]


def open_inline_update(web: Web, page, pk: int):
    """Click the row's Update link: with JavaScript the form opens in place (htmx)."""
    page.locator(f"#key-action-{pk}").get_by_role("link", name="Update", exact=True).click()
    panel = page.locator(f"#panel-{pk}")
    expect(panel.get_by_role("button", name="Record progress")).to_be_visible()
    web.check(page)
    return panel


def comment_error(scope):
    """The error shown with the comment field (inside the same field block as its label)."""
    return scope.locator(".field", has=scope.page.locator("textarea[name=comment]")).locator(".error")


def new_status(current: str) -> str:
    return "Completed" if current != "Completed" else "Initiated"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


# --- the walkthrough --------------------------------------------------------------------------------


def test_loaddemo_prints_one_user_per_role(web):
    demo = web.demo
    roles = [r for _, r, _ in demo.users]
    for role in (ADMINISTRATOR, EVALUATION_OFFICE, OFFICE_FOCAL_POINT, UNIT_FOCAL_POINT, VIEWER):
        assert [r.lower() for r in roles].count(role.lower()) == 1, f"{role!r} in {demo.users}"
    assert len({u for u, _, _ in demo.users}) == len(demo.users)


def test_each_printed_demo_user_signs_in_sees_their_role_and_signs_out(web):
    demo = web.demo
    page = web.page()  # one browser, people signing in one after the other
    for username, role, scope in demo.users:
        web.sign_in(page, username)
        expect(page.get_by_role("heading", level=1)).to_have_text("Workspace")
        signed_in = page.locator("main p", has_text="Signed in as")
        expect(signed_in).to_contain_text(f"Signed in as {username}: {role}")
        if scope != "everything":
            # e.g. "PPID (Policy, Programme and Intergovernmental Division)": the unit is named.
            expect(signed_in).to_contain_text(scope.split(" (")[0])
        expect(page.get_by_text("You have no role yet")).to_have_count(0)
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(demo.base + "/")
        web.check(page)
        expect(page.locator("header .account").get_by_role("link", name="Sign in")).to_be_visible()
        expect(nav(page, "Workspace")).to_have_count(0)
    web.finish()


def test_inline_update_shows_a_missing_comment_next_to_the_field_then_saves(web):
    demo = web.demo
    page = web.as_user(demo.user(UNIT_FOCAL_POINT))
    action = my_action(web, page, 1)
    pk = action["pk"]
    panel = open_inline_update(web, page, pk)

    panel.get_by_label("New status").select_option("Completed")
    with posting_update(page) as answer:
        panel.get_by_role("button", name="Record progress").click()
    # The error is shown in place, with the comment field, and nothing was saved.
    expect(
        comment_error(panel),
        f"no error shown next to the comment field after an inline Completed without a comment "
        f"(the server answered HTTP {answer.value.status}; the form stayed as it was)",
    ).to_contain_text("comment")
    expect(page.locator(f"#status-{pk}")).to_contain_text(action["status"])
    web.check(page)

    comment = "Guidance published and shared with all country offices (inline, after the error)."
    panel.get_by_label("Comment").fill(comment)
    panel.get_by_label("Evidence link").fill("https://example.org/walkthrough-proof")  # Completed needs evidence
    panel.get_by_role("button", name="Record progress").click()
    expect(panel.get_by_text("Progress recorded.")).to_be_visible()
    expect(page.locator(f"#status-{pk}")).to_contain_text("Completed")
    expect(panel.locator("ol.timeline")).to_contain_text(comment)
    web.check(page)
    web.finish()


def test_progress_shows_in_timeline_audit_trail_csv_and_public_page(web, screenshots):
    """The acceptance walk: update inline, then the timeline, the public page, the history and its CSV."""
    demo = web.demo
    unit = demo.user(UNIT_FOCAL_POINT)
    page = web.as_user(unit)
    page.screenshot(path=str(screenshots / "workspace.png"), full_page=True)

    action = my_action(web, page, 0)
    pk, number, before = action["pk"], action["number"], action["status"]
    after = new_status(before)
    comment = f"Support to women's civil society expanded: progress {int(time.time())}."
    panel = open_inline_update(web, page, pk)
    panel.get_by_label("New status").select_option(after)
    if before == "Completed":  # moving a Completed action back asks why (the field shows once another status is chosen)
        panel.get_by_label("Reason for reopening").fill("Reopened in the walkthrough.")
    panel.get_by_label("Comment").fill(comment)
    panel.get_by_label("Evidence link").fill("https://example.org/walkthrough-proof")  # Completed needs evidence
    panel.get_by_role("button", name="Record progress").click()
    expect(panel.get_by_text("Progress recorded.")).to_be_visible()
    expect(panel.locator("dl.facts")).to_contain_text(after)
    # The row's own status cell comes in the same response (out of band): read now, asserted at the end
    # so that the rest of the walk is still tried if it is stale.
    row_status = page.locator(f"#status-{pk}").inner_text().strip()
    web.check(page)

    # The key action's own page: the new status and the comment in its timeline.
    page.locator(f"#key-action-{pk}").get_by_role("link", name=action["link"], exact=True).click()
    page.wait_for_url(f"{demo.base}/actions/{pk}/")
    web.check(page)
    facts = page.locator("#action-panel dl.facts")
    expect(facts.locator("dt", has_text="Status").locator("xpath=following-sibling::dd[1]")).to_contain_text(after)
    entry = page.locator("#action-panel ol.timeline > li", has_text=comment)
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(unit)
    expect(entry.locator(".badge")).to_have_text([before, after])

    # An anonymous visitor: the public evaluation page (an approved response) shows the same progress.
    anon = web.page()
    anon.goto(demo.base + "/")
    web.check(anon)
    expect(anon.locator("header .account").get_by_role("link", name="Sign in")).to_be_visible()
    nav(anon, "Evaluations").click()
    expect(anon.get_by_role("heading", level=1)).to_have_text("Evaluations")
    web.check(anon)
    anon.locator(f"main table a[href='{action['evaluation_href']}']").click()
    anon.wait_for_url(demo.base + action["evaluation_href"])
    web.check(anon)
    expect(anon.locator(".facts dt", has_text="Status").locator("xpath=following-sibling::dd[1]")).to_contain_text("Approved")
    row = anon.locator(f"#key-action-{pk}")
    expect(row.locator(f"#status-{pk}")).to_contain_text(after)
    row.locator("summary", has_text="Timeline").click()
    public_entry = row.locator("ol.timeline > li", has_text=comment)
    expect(public_entry).to_be_visible()
    expect(public_entry.locator(".badge")).to_have_text([before, after])
    expect(row.get_by_role("link", name="Update progress")).to_have_count(0)
    expect(anon.get_by_role("link", name="History of changes")).to_have_count(0)
    anon.screenshot(path=str(screenshots / "evaluation.png"), full_page=True)

    # The viewer: the evaluation's history of changes names who changed what, before and after.
    viewer = demo.user(VIEWER)
    vpage = web.as_user(viewer)
    nav(vpage, "Evaluations").click()
    expect(vpage.get_by_role("heading", level=1)).to_have_text("Evaluations")
    vpage.locator(f"main table a[href='{action['evaluation_href']}']").click()
    vpage.wait_for_url(demo.base + action["evaluation_href"])
    web.check(vpage)
    expect(vpage.locator(f"#key-action-{pk}").get_by_role("link", name="Update progress")).to_have_count(0)
    vpage.get_by_role("link", name="History of changes").click()
    expect(vpage.get_by_role("heading", level=1)).to_have_text("History of changes")
    web.check(vpage)
    records = vpage.locator("main table tbody tr")
    status_change = (
        records.filter(has_text=f"Key action {number}")
        .filter(has=vpage.locator("del", has_text=before))
        .filter(has=vpage.locator("ins", has_text=after))
    )
    expect(status_change).to_have_count(1)
    expect(status_change.locator("td").nth(1)).to_contain_text(unit)
    # A completion claimed awaits verification: the verification state moves with the status.
    expect(status_change.locator("dt")).to_have_text(["Status", "Verification", "Completed on"] if after == "Completed" else ["Status"])
    update_record = records.filter(has_text=f"progress update on key action {number}").filter(has_text=comment)
    expect(update_record).to_have_count(1)
    expect(update_record.locator("td").nth(1)).to_contain_text(unit)

    with vpage.expect_download() as download:
        vpage.get_by_role("link", name="Download as CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    changes = [r for r in rows if r["record"].startswith("keyaction:") and r["object_id"] == str(pk) and r["action"] == "update"]
    assert len(changes) == 1, f"the status change of key action {pk} is not in the CSV once: {changes}"
    assert changes[0]["user"] == unit
    assert changes[0]["changed"] == ("status, verification, completed_on" if after == "Completed" else "status")
    claimed = after == "Completed"  # awaits verification from now
    assert json.loads(changes[0]["before"]) == {"status": before, **({"verification": "", "completed_on": None} if claimed else {})}
    after_values = json.loads(changes[0]["after"])
    assert {k: v for k, v in after_values.items() if k != "completed_on"} == {"status": after, **({"verification": "awaiting"} if claimed else {})}
    assert ("completed_on" in after_values) == claimed  # the day it was marked Completed
    created = [r for r in rows if r["record"].startswith("actionupdate:") and r["user"] == unit and comment in r["after"]]
    assert len(created) == 1, "the progress update (with its comment) is not in the CSV"
    assert json.loads(created[0]["after"])["status_after"] == after

    for name in ("workspace.png", "evaluation.png"):
        width, height = png_size(screenshots / name)
        assert width >= 1280 and height >= 900, f"{name} is {width}x{height}"
    web.finish()
    # A completion claimed shows, beside its status, that it awaits verification.
    assert row_status == after + (" Awaiting verification" if after == "Completed" else ""), (
        f"after the inline update of key action {pk} to {after!r}, its row in My actions still shows {row_status!r}"
    )


def test_report_progress_on_the_key_action_page_with_javascript(web):
    """The key action's page has its own progress form (htmx): the page must then show the new status."""
    demo = web.demo
    page = web.as_user(demo.user(UNIT_FOCAL_POINT))
    action = my_action(web, page, 5)
    pk, before = action["pk"], action["status"]
    after = new_status(before)
    page.locator(f"#key-action-{pk}").get_by_role("link", name=action["link"], exact=True).click()
    page.wait_for_url(f"{demo.base}/actions/{pk}/")
    web.check(page)
    form = page.locator("section", has=page.get_by_role("heading", name="Report progress"))
    comment = "Reported from the key action's own page."
    form.get_by_label("New status").select_option(after)
    if before == "Completed":
        form.get_by_label("Reason for reopening").fill("Reopened in the walkthrough.")
    form.get_by_label("Comment").fill(comment)
    form.get_by_label("Evidence link").fill("https://example.org/walkthrough-proof")  # Completed needs evidence
    form.get_by_role("button", name="Record progress").click()
    expect(page.get_by_text("Progress recorded.")).to_be_visible()
    web.check(page)
    status = page.locator("#action-panel dl.facts dt", has_text="Status").locator("xpath=following-sibling::dd[1]")
    expect(status, f"the key action's panel still shows its old status after recording {after!r} on its page").to_contain_text(after)
    expect(page.locator("#action-panel ol.timeline > li", has_text=comment)).to_have_count(1)
    web.finish()


def test_reopening_a_completed_action_asks_why_and_shows_it_on_the_timeline(web):
    """The reason field appears once another status than Completed is chosen; without it the server refuses."""
    demo = web.demo
    page = web.as_user(demo.user(UNIT_FOCAL_POINT))
    nav(page, "My actions").click()
    rows = page.locator("main tbody tr[id^='key-action-']")
    expect(rows.first).to_be_visible()
    completed = rows.evaluate_all(
        "rows => rows.filter(r => r.querySelector('.badge') && [...r.querySelectorAll('.badge')].some("
        "b => b.textContent.trim() === 'Completed')).map(r => Number(r.id.split('-').pop()))"
    )
    assert completed, "the demo gives the unit focal point a Completed key action"
    pk = max(completed)  # the walk's other tests take the first ones by id
    page.goto(f"{demo.base}/actions/{pk}/")
    web.check(page)
    form = page.locator("section", has=page.get_by_role("heading", name="Report progress"))
    reason = form.get_by_label("Reason for reopening")
    expect(reason, "the reason is hidden while Completed stays chosen").to_be_hidden()
    form.get_by_label("New status").select_option("Initiated")
    expect(reason).to_be_visible()
    form.get_by_label("Comment").fill("More to do.")
    with posting_update(page) as answer:
        form.get_by_role("button", name="Record progress").click()
    assert answer.value.status == 400
    expect(page.locator(".field.has-error", has=page.locator("textarea[name=reopen_reason]"))).to_contain_text(
        "Give the reason this Completed action is opened again")
    page.locator("textarea[name=reopen_reason]").fill("The audit found two offices without the note.")
    page.locator("form", has=page.locator("textarea[name=reopen_reason]")).get_by_role("button", name="Record progress").click()
    expect(page.get_by_text("Progress recorded.")).to_be_visible()
    expect(page.locator("#action-panel ol.timeline > li", has_text="The audit found two offices without the note.")).to_have_count(1)
    web.check(page)
    web.finish()


def test_draft_stays_private_until_the_evaluation_office_approves_it(web):
    demo = web.demo
    # The office focal point adds a key action to the demo draft and submits it.
    page = web.as_user(demo.user(OFFICE_FOCAL_POINT))
    to_draft = page.locator("section", has=page.get_by_role("heading", name="Responses to draft or submit"))
    to_draft.get_by_role("link", name=re.compile(re.escape(DRAFT_MARK))).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Management response (draft)")
    web.check(page)
    title = page.locator("nav.breadcrumbs li").first.inner_text().strip()
    assert DRAFT_MARK in title

    page.get_by_role("link", name="+ Add a key action").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New key action")
    web.check(page)
    text = "Train national statistical offices on gender data (added in the browser test)."
    page.get_by_label(re.compile(r"^Key action\b")).fill(text)
    # The unit picker: ticks grouped by office, filtered as one types (site.js), no Ctrl-click box.
    picker = page.locator("[data-unit-picker]").first
    expect(picker.locator("select")).to_have_count(0)
    everything = picker.locator(".unit-option").count()
    picker.get_by_label("Find a unit").fill("PPID")
    shown = picker.locator(".unit-option:visible")
    expect(shown.first).to_be_visible()
    assert shown.count() < everything, "typing in the unit picker did not filter the units"
    ppid = shown.filter(has_text=re.compile(r"^\s*PPID"))
    expect(ppid.first, "PPID is not offered as a responsible unit").to_be_visible()
    ppid.first.locator("input").check()
    page.get_by_label("Responsible (as written)").fill("PPID")
    page.get_by_label("Deadline").fill("2027-09")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Management response (draft)")
    expect(page.locator("main .messages")).to_contain_text("Key action added.")
    added = page.locator("main table tbody tr", has_text=text)
    expect(added).to_have_count(1)
    expect(added).to_contain_text("2027/09")
    web.check(page)

    # Told what is missing before it can be submitted, with a link to it; written, it can be.
    submit = page.locator("section", has=page.get_by_role("heading", name="Submit for review"))
    expect(submit.locator(".checks.missing")).to_contain_text("Write the overall management response.")
    expect(submit.get_by_role("button", name="Submit")).to_be_disabled()
    submit.get_by_role("link", name="Write the overall management response.").click()
    page.get_by_role("textbox", name="Overall response").fill("UN Women accepts the evaluation and will act on its recommendation.")
    page.locator("section", has=page.get_by_role("heading", name="Overall response")).get_by_role("button", name="Save").click()
    expect(page.locator("main .messages")).to_contain_text("Response saved.")
    expect(submit.locator(".checks.ready")).to_be_visible()
    web.check(page)
    submit.get_by_role("button", name="Submit").click()
    expect(page.locator("main .messages")).to_contain_text("submitted to the evaluation office")
    evaluation_url = page.url
    assert re.fullmatch(re.escape(demo.base) + r"/evaluations/\d+/", evaluation_url), evaluation_url
    expect(page.locator(".facts dt", has_text="Status").locator("xpath=following-sibling::dd[1]")).to_contain_text("Submitted")
    web.check(page)

    # Anonymous: neither listed nor reachable (404) while it is not approved.
    anon = web.page()
    anon.goto(demo.base + "/")
    nav(anon, "Evaluations").click()
    expect(anon.get_by_role("heading", level=1)).to_have_text("Evaluations")
    expect(anon.locator("main table tbody tr").first).to_be_visible()
    expect(anon.get_by_role("link", name=title)).to_have_count(0)
    response = anon.goto(evaluation_url)  # no link leads there: a shared or guessed address
    assert response.status == 404, f"the submitted draft {evaluation_url} answered {response.status} to an anonymous visitor"
    # DEBUG=1 (as `make run` serves) shows Django's own 404 page, not the app's: no accessibility check here.
    expect(anon.get_by_role("heading", level=1)).to_contain_text(re.compile("not found", re.I))
    expect(anon.locator("body")).not_to_contain_text(text)

    # The evaluation office approves it from the evaluation page.
    review = web.as_user(demo.user(EVALUATION_OFFICE))
    to_review = review.locator("section", has=review.get_by_role("heading", name="Responses to review"))
    to_review.get_by_role("link", name=title).click()
    review.wait_for_url(evaluation_url)
    web.check(review)
    # Approving asks first (a disclosure in the page): nothing is approved until the second click.
    expect(review.get_by_role("button", name="Approve the response")).to_be_hidden()
    review.locator("summary", has_text="Approve…").click()
    review.get_by_role("button", name="Approve the response").click()
    expect(review.locator("main .messages")).to_contain_text("Response approved")
    expect(review.locator(".facts dt", has_text="Status").locator("xpath=following-sibling::dd[1]")).to_contain_text("Approved")
    expect(review.locator("summary", has_text="Approve…")).to_have_count(0)
    web.check(review)

    # Anonymous again (from the home page: Django's debug 404 page has no links): listed, and shown.
    anon.goto(demo.base + "/")
    nav(anon, "Evaluations").click()
    expect(anon.get_by_role("heading", level=1)).to_have_text("Evaluations")
    anon.get_by_role("link", name=title).click()
    anon.wait_for_url(evaluation_url)
    expect(anon.get_by_role("heading", level=1)).to_have_text(title)
    expect(anon.locator(".facts dt", has_text="Status").locator("xpath=following-sibling::dd[1]")).to_contain_text("Approved")
    expect(anon.locator("table.actions-table tbody tr", has_text=text)).to_have_count(1)
    web.check(anon)
    web.finish()


def test_progress_update_without_javascript(web):
    demo = web.demo
    page = web.as_user(demo.user(UNIT_FOCAL_POINT), js=False)
    action = my_action(web, page, 2)
    pk, number, before = action["pk"], action["number"], action["status"]
    page.locator(f"#key-action-{pk}").get_by_role("link", name="Update", exact=True).click()
    page.wait_for_url(f"{demo.base}/actions/{pk}/update/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Progress on key action {number}")
    web.check(page)
    form = page.locator("main form", has=page.get_by_role("button", name="Record progress"))

    form.get_by_label("New status").select_option("Completed")
    with posting_update(page) as answer:
        form.get_by_role("button", name="Record progress").click()
    assert answer.value.status == 400
    expect(comment_error(form)).to_contain_text("comment")
    expect(form.get_by_label("New status")).to_have_value("Completed")
    web.check(page)

    comment = "Done without JavaScript: the plain form works end to end."
    form.get_by_label("Comment").fill(comment)
    form.get_by_label("Evidence link").fill("https://example.org/walkthrough-proof")  # Completed needs evidence
    form.get_by_role("button", name="Record progress").click()
    page.wait_for_url(f"{demo.base}/actions/{pk}/")
    expect(page.locator("main .messages")).to_contain_text(f"Progress on key action {number} recorded.")
    entry = page.locator("#action-panel ol.timeline > li", has_text=comment)
    expect(entry).to_have_count(1)
    expect(entry.locator(".badge")).to_have_text([before, "Completed"])
    web.check(page)
    web.finish()


@pytest.mark.parametrize("js", [True, False], ids=["htmx", "no-js"])
def test_two_tabs_updating_the_same_action_second_sees_the_conflict(web, js):
    demo = web.demo
    first = web.as_user(demo.user(UNIT_FOCAL_POINT), js=js)
    second = first.context.new_page()  # a second tab of the same signed-in browser
    second.goto(demo.base + "/")
    nav(second, "Workspace").click()
    second.wait_for_url(demo.base + "/workspace/")

    action = my_action(web, first, 3 if js else 4)
    pk = action["pk"]
    assert my_action(web, second, 3 if js else 4) == action

    def open_form(page):
        if js:
            return open_inline_update(web, page, pk)
        page.locator(f"#key-action-{pk}").get_by_role("link", name="Update", exact=True).click()
        page.wait_for_url(f"{demo.base}/actions/{pk}/update/")
        web.check(page)
        return page.locator("main form", has=page.get_by_role("button", name="Record progress"))

    form1, form2 = open_form(first), open_form(second)

    first_comment = "Closed from the first tab."
    form1.get_by_label("New status").select_option("Completed")
    form1.get_by_label("Comment").fill(first_comment)
    form1.get_by_label("Evidence link").fill("https://example.org/walkthrough-proof")  # Completed needs evidence
    form1.get_by_role("button", name="Record progress").click()
    if js:
        expect(form1.get_by_text("Progress recorded.")).to_be_visible()
    else:
        first.wait_for_url(f"{demo.base}/actions/{pk}/")
        expect(first.locator("main .messages")).to_contain_text("recorded")

    second_comment = "Typed in the second tab: this must not be lost."
    form2.get_by_label("New status").select_option("No Longer Applicable")
    form2.get_by_label("Comment").fill(second_comment)
    with posting_update(second) as answer:
        form2.get_by_role("button", name="Record progress").click()
    assert answer.value.status == 409, f"the second tab's update answered HTTP {answer.value.status}, not a conflict"
    scope = second.locator(f"#panel-{pk}") if js else second.locator("main")
    expect(
        scope.get_by_role("alert"),
        "the second tab shows no conflict message (the server answered HTTP 409; the form stayed as it was)",
    ).to_contain_text("Nothing was saved")
    expect(scope.locator("p", has_text="Now:").locator("strong")).to_have_text("Completed")
    expect(scope.locator("p", has_text="Now:")).to_contain_text(first_comment)
    expect(scope.get_by_label("Comment")).to_have_value(second_comment)
    expect(scope.get_by_label("New status")).to_have_value("No Longer Applicable")
    web.check(second)

    # The action is Completed now: moving it on asks why (with JavaScript, shown since another status is chosen).
    reason = scope.get_by_label("Reason for reopening")
    expect(reason).to_be_visible()
    reason.fill("The first tab closed it by mistake.")
    # Saving again, knowingly, now works: the kept entry carries the current version.
    scope.get_by_role("button", name="Record progress").click()
    if js:
        expect(scope.get_by_text("Progress recorded.")).to_be_visible()
        expect(scope.locator("dl.facts")).to_contain_text("No Longer Applicable")
    else:
        second.wait_for_url(f"{demo.base}/actions/{pk}/")
        expect(second.locator("#action-panel ol.timeline > li").first).to_contain_text(second_comment)
    web.finish()


def test_the_evaluation_office_imports_a_spreadsheet_with_a_preview(web, tmp_path):
    """The key actions export, one key action renamed, imported back: previewed (nothing written), then imported once."""
    demo = web.demo
    page = web.as_user(demo.user(EVALUATION_OFFICE))
    page.get_by_role("link", name="Import a spreadsheet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import a spreadsheet")
    web.check(page)
    exported = page.request.get(demo.base + "/export/key-actions.csv")
    assert exported.ok
    rows = list(csv.reader(io.StringIO(exported.text())))
    header, first = rows[0], rows[1]
    renamed = first[header.index("text")] + " (renamed in a spreadsheet)"
    first[header.index("text")] = renamed
    buf = io.StringIO()
    csv.writer(buf, delimiter=";").writerows([header, first])
    path = tmp_path / "key-actions.csv"
    path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode())
    page.get_by_label("Spreadsheet").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("main")).to_contain_text("Nothing has been written yet")
    expect(page.locator("main .sheet-summary")).to_contain_text("0 created, 1 updated")
    web.check(page)
    # At 390 px the preview fits the screen.
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name=re.compile(r"^Import")).click()
    expect(page.locator("main .messages")).to_contain_text("Imported 1 evaluations from key-actions.csv")
    expect(page.locator("main")).to_contain_text("Importing the file again needs a new upload")
    web.check(page)
    # Back: the page shows what was imported, with nothing to confirm again.
    page.go_back()
    expect(page.locator("main")).to_contain_text("Importing the file again needs a new upload")
    expect(page.get_by_role("button", name=re.compile(r"^Import"))).to_have_count(0)
    action = page.request.get(demo.base + f"/actions/{first[header.index('id')]}/")
    assert renamed in action.text()
    web.finish()
