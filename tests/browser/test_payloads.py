"""No script runs from data, in a real browser, and the Content-Security-Policy holds on every page.

A demo installation run as in production (DEBUG off, `collectstatic`, hashed
static files) is filled with records whose every field is a payload of
tests/data/payloads.txt (tests/browser/seed_payloads.py: a GATE page imported,
a draft, a returned response, progress, new evaluations); then each person
types more payloads into the forms, and every page that shows them is opened
as each role.

Two browsers' worth of checks:

* escaping alone: the pages are opened with the CSP bypassed (`bypass_csp`),
  so that a value that escaped its escaping would run. No dialog may open
  (`page.on("dialog")`), no element or attribute may be made of data, and
  the values are shown literally;
* the CSP: the same pages with the policy enforced record no violation
  (`securitypolicyviolation` events and console reports), and what needs
  JavaScript still works under it: htmx inline progress updates, the delete
  confirmation, the Django admin's widgets.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.browser.test_walkthrough import (  # noqa: F401  (fixtures: _browser, _sessions)
    EXE,
    Demo,
    Web,
    _browser,
    _env,
    _free_port,
    _sessions,
    _wait_until_up,
    expect,
    nav,
    parse_demo_users,
)
from tests.payloads import PAYLOADS, one_line, shown_form, stored_form

ROOT = Path(__file__).resolve().parents[2]
SEEDED = [p for p in PAYLOADS if "\x00" not in p.text]

# Everything the page has that data could have made: elements, handlers, script and data links.
INJECTED_JS = r"""(expected) => {
  const problems = [];
  const forbidden = new Set(['iframe', 'object', 'embed', 'base', 'math', 'marquee', 'video', 'audio', 'source',
    'template', 'xmp', 'plaintext', 'noscript', 'frame', 'frameset', 'applet', 'foreignobject', 'animate', 'style']);
  const urlAttributes = new Set(['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'poster']);
  const short = (el) => el.outerHTML.slice(0, 120);
  for (const el of document.querySelectorAll('*')) {
    const tag = el.localName.toLowerCase();
    if (forbidden.has(tag)) problems.push(`element from data: ${short(el)}`);
    if (tag === 'script') {
      const src = el.getAttribute('src') || '';
      if (!src.startsWith('/static/') && !src.startsWith('/admin/jsi18n/')) problems.push(`script: ${short(el)}`);
    }
    if (tag === 'img' && !(el.getAttribute('src') || '').startsWith('/static/')) problems.push(`image: ${short(el)}`);
    if (tag === 'svg' && !(el.parentElement && el.parentElement.closest('svg'))) {
      const c = [...el.classList];
      if (!(c.includes('chart') || c.includes('base-svgs') || c.some((x) => x.startsWith('theme-icon')))) problems.push(`svg: ${short(el)}`);
    }
    if (tag === 'meta' && el.hasAttribute('http-equiv')) problems.push(`meta refresh: ${short(el)}`);
    for (const a of el.attributes) {
      const n = a.name.toLowerCase();
      if (n === 'xlink:href' && tag === 'use' && a.value.startsWith('#')) continue;
      if (n.startsWith('on') || n.startsWith('hx-on') || ['srcdoc', 'formaction', 'hx-trigger', 'hx-vals'].includes(n)) {
        problems.push(`attribute ${n}: ${short(el)}`);
      }
      if (urlAttributes.has(n) && /^\s*(javascript|data|vbscript|file):/i.test(a.value)) problems.push(`${n}=${a.value}: ${short(el)}`);
    }
  }
  for (const a of document.querySelectorAll('a[href]')) {
    if (!['http:', 'https:'].includes(a.protocol)) problems.push(`link to ${a.protocol}: ${short(a)}`);
  }
  const text = document.body.textContent;
  const values = [...document.querySelectorAll('input, textarea')].map((e) => e.value);
  const missing = expected.filter((v) => !text.includes(v) && !values.some((x) => x.includes(v)));
  return {problems, missing: missing.slice(0, 5), n_missing: missing.length};
}"""

# Registered before any script of the page: every CSP violation is kept on the window.
CSP_LISTENER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile || ''}:${e.lineNumber || ''} (${(e.sample || '').slice(0, 60)})`);
});
"""


# --- the installation, as in production -------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Demo:
    var = tmp_path_factory.mktemp("followthrough-payloads")
    env = {
        **_env(var),
        "DEBUG": "0",
        # Plain HTTP on loopback: no redirect to HTTPS, cookies without the Secure flag.
        "SECURE_SSL_REDIRECT": "0", "SESSION_COOKIE_SECURE": "0", "CSRF_COOKIE_SECURE": "0", "SECURE_HSTS_SECONDS": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_ROOT": str(var / "static"),
    }
    out = {}
    for args in (["migrate", "--noinput"], ["loaddemo"], ["collectstatic", "--noinput"]):
        p = subprocess.run([str(EXE), *args], capture_output=True, text=True, env=env, timeout=300)
        assert p.returncode == 0, f"`followthrough {' '.join(args)}` failed:\n{p.stdout}\n{p.stderr}"
        out[args[0]] = p.stdout
    password, users = parse_demo_users(out["loaddemo"])
    seed = subprocess.run(
        [sys.executable, "-m", "tests.browser.seed_payloads"], capture_output=True, text=True, cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)}, timeout=600,
    )
    assert seed.returncode == 0, f"seeding the payloads failed:\n{seed.stdout}\n{seed.stderr}"

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = var / "runserver.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [str(EXE), "runserver", f"127.0.0.1:{port}", "--noreload"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_up(base, server, log_path)
            site = Demo(base=base, password=password, users=users, var=var)
            site.seed = json.loads(seed.stdout)
            yield site
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@dataclass
class Browse(Web):
    """The walkthrough's browser, with dialogs and CSP violations recorded, and the CSP optionally bypassed."""

    bypass_csp: bool = False
    dialogs: list[str] = field(default_factory=list)  # unexpected ones: none may open
    expected_dialogs: list[str] = field(default_factory=list)  # the app's own confirmations, dismissed
    accept_dialogs: list[str] = field(default_factory=list)  # ... or accepted
    console_csp: list[str] = field(default_factory=list)

    def context(self, *, js: bool = True, storage_state=None):
        self._require_browser()
        ctx = self.browser.new_context(
            java_script_enabled=js, bypass_csp=self.bypass_csp, viewport={"width": 1366, "height": 900},
            storage_state=storage_state,
        )
        ctx.set_default_timeout(10_000)
        # The payload evaluation is a page of 159 recommendations with their timelines: on a busy
        # machine its first rendering may take longer than a click's wait. A wait, not a speed test.
        ctx.set_default_navigation_timeout(60_000)
        ctx.add_init_script(CSP_LISTENER)
        ctx.on("request", lambda r: self.requests.append(r.url))
        ctx.on("weberror", lambda e: self.page_errors.append(f"{e.page.url if e.page else '?'}: {e.error}"))
        ctx.on("page", self._watch)
        self.contexts.append(ctx)
        return ctx

    def _watch(self, page) -> None:
        def on_dialog(dialog):
            if dialog.message in self.accept_dialogs:
                self.accept_dialogs.remove(dialog.message)
                dialog.accept()
                return
            if dialog.message in self.expected_dialogs:
                self.expected_dialogs.remove(dialog.message)
            else:
                self.dialogs.append(f"{page.url}: {dialog.type} {dialog.message!r}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on(
            "console",
            lambda m: self.console_csp.append(f"{page.url}: {m.text}") if "Content Security Policy" in m.text else None,
        )

    def page(self, *, js: bool = True):
        page = self.context(js=js).new_page()
        return page

    def inspect(self, page, expected=()) -> None:
        """Nothing made of data on the page as it is now, the expected values shown, no dialog, no CSP violation."""
        expected = [shown_form(v) for v in expected if v]
        found = page.evaluate(INJECTED_JS, expected)
        assert not found["problems"], f"{page.url}: markup made of data: {found['problems'][:5]}"
        assert not found["n_missing"], f"{page.url}: {found['n_missing']} values not shown literally, e.g. {found['missing']}"
        assert not self.dialogs, f"dialogs opened: {self.dialogs}"
        if not self.bypass_csp:
            violations = page.evaluate("window.__csp")
            assert not violations, f"{page.url}: CSP violations {violations}"
            assert not self.console_csp, f"CSP reports in the console: {self.console_csp}"
        if "/admin/" not in page.url:  # the admin has its own skip link and headings
            self.check(page)

    def open(self, page, path: str, expected=()) -> None:
        response = page.goto(self.demo.base + path)
        assert response is not None and response.status < 500, f"{path}: {response.status if response else 'no answer'}"
        self.inspect(page, expected)


@pytest.fixture
def browse(request, _browser, _sessions):  # noqa: F811  (the fixtures imported above)
    b = Browse(request=request, browser=_browser, sessions=_sessions)
    yield b
    b.close()


@pytest.fixture
def unsafe(browse):
    """Pages opened with the CSP bypassed: escaping alone has to hold."""
    browse.bypass_csp = True
    return browse


# --- what each page should show ---------------------------------------------------------------------------


def imported_texts() -> list[str]:
    # Single-line payloads without control characters: what the GATE page carries unchanged.
    return [f"Recommendation text {p.text}" for p in SEEDED if p.text == one_line(p.text).strip() and all(c >= " " for c in p.text)]


def draft_texts() -> list[str]:
    return [stored_form(p.text) for p in SEEDED if stored_form(p.text)]


def role_pages(seed: dict) -> dict[str, list[tuple[str, list[str]]]]:
    """The pages each person opens: everything for the public, the viewer and the administrator; for the
    people who act, the pages where their controls are (update links, review buttons, drafting tools)."""
    imported = f"/evaluations/{seed['imported']}/"
    public = [
        ("/", []), ("/evaluations/", []), (imported, imported_texts()), (f"/actions/?evaluation={seed['imported']}", []),
        ("/actions/", []), ("/dashboard/", []), ("/regions/", []), ("/reports/annual/?year=2025", []),
        (f"/actions/{seed['progress_actions'][0]}/", []),
    ]
    internal = [
        ("/workspace/", []), ("/history/", []), (f"/evaluations/{seed['imported']}/history/", []),
        # Drafts: shown in full to their office (below); to others as the reading rules say, escaped either way.
        (f"/evaluations/{seed['draft']}/", []), (f"/evaluations/{seed['returned']}/", []),
    ]
    acting = [("/workspace/", []), (imported, imported_texts()), (f"/actions/{seed['progress_actions'][0]}/", []), ("/dashboard/", [])]
    return {
        "": public,
        "viewer": public + internal,
        "unit": acting + [("/workspace/actions/", [])],
        "office": acting + [("/workspace/actions/", []), (f"/evaluations/{seed['draft']}/", draft_texts()),
                            (f"/responses/{seed['draft_response']}/edit/", draft_texts()),
                            (f"/responses/{seed['returned_response']}/edit/", ["'+alert(1)+' \"><img src=x onerror=alert(1)> <script>alert(1)</script>"])],
        "evaluation": acting + [(f"/evaluations/{seed['submitted']}/", ["Submitted {{ 7*7 }} ＝1+1"]), ("/evaluations/new/", [])],
        "admin": internal + [
            ("/admin/", []), ("/admin/tracking/evaluation/", []), ("/admin/tracking/keyaction/", []),
            ("/admin/tracking/unit/", []), ("/admin/tracking/term/", []), ("/admin/tracking/changerecord/", []),
            ("/admin/tracking/office/", []),
        ],
    }


def visit_all(b: Browse) -> int:
    seed = b.demo.seed
    n = 0
    for who, pages in role_pages(seed).items():
        page = b.as_user(who) if who else b.page()
        for path, expected in pages:
            b.open(page, path, expected)
            n += 1
        page.context.close()
        b.contexts.remove(page.context)
    return n


# --- escaping alone -----------------------------------------------------------------------------------------------


def test_seeded_payloads_are_shown_as_text_on_every_page_as_every_role(unsafe):
    n = visit_all(unsafe)
    assert n >= 45
    unsafe.finish()


def test_payloads_typed_into_the_drafting_forms(unsafe):
    b, seed = unsafe, unsafe.demo.seed
    page = b.as_user("office")
    b.open(page, f"/responses/{seed['draft_response']}/edit/")
    page.get_by_role("link", name="+ Add a recommendation").click()
    values = {"number": "'-alert(1)-'", "text": '"><img src=x onerror=alert(1)>',
              "response_text": "<script>alert(1)</script>", "description": "{{ 7*7 }} {% debug %}"}
    for name, value in values.items():
        page.locator(f"main [name={name}]").fill(value)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**/responses/{seed['draft_response']}/edit/")
    b.inspect(page, [values["number"], values["text"], values["response_text"]])

    rec = page.locator("article.recommendation", has=page.get_by_role("heading", name="Recommendation '-alert(1)-'")).last
    rec.get_by_role("link", name="+ Add a key action").click()
    action = {"number": "';alert(1);//", "text": "javascript:alert(1)", "responsible": "＝1+1 @SUM(A1)",
              "comments": "\x1b[31mred\x1b[0m <svg onload=alert(1)>"}
    for name, value in action.items():
        page.locator(f"main [name={name}]").fill(value)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**/responses/{seed['draft_response']}/edit/**")
    b.inspect(page, [action["number"], action["text"], action["responsible"]])

    page.locator("main [name=overall_response]").fill("</textarea><script>alert(1)</script>")
    page.get_by_role("button", name="Save").first.click()
    page.wait_for_url(f"**/responses/{seed['draft_response']}/edit/")
    b.inspect(page, ["</textarea><script>alert(1)</script>"])

    b.open(page, f"/evaluations/{seed['draft']}/", list(values.values()) + [action["comments"]])

    b.open(page, f"/responses/{seed['draft_response']}/edit/")
    # Deleting asks first, in words that carry the number as text: the confirmation is the one dialog.
    message = "Delete recommendation '+alert(1)+' and its key actions?"
    b.expected_dialogs.append(message)
    first = page.locator("article.recommendation", has=page.get_by_role("heading", name="Recommendation '+alert(1)+'")).first
    first.locator("header").get_by_role("button", name="Delete").click()
    expect(first).to_be_visible()  # dismissed: nothing deleted
    assert not b.expected_dialogs, "the delete confirmation did not ask"
    b.inspect(page)
    b.finish()


def test_payloads_typed_into_progress_review_evaluation_and_sign_in_forms(unsafe):
    b, seed = unsafe, unsafe.demo.seed
    # Progress, inline (htmx), with a link typed without its scheme, then one that is no web address.
    page = b.as_user("unit")
    nav(page, "My actions").click()
    row = page.locator("main tbody tr[id^='key-action-']").first
    pk = row.get_attribute("id").split("-")[-1]
    row.get_by_role("link", name="Update", exact=True).click()
    panel = page.locator(f"#panel-{pk}")
    panel.get_by_label("Comment").fill("<img src=x onerror=alert(1)> '+alert(1)+'")
    panel.get_by_label("Evidence link").fill("www.example.org/report.pdf")
    panel.get_by_role("button", name="Record progress").click()
    expect(panel.get_by_text("Progress recorded.")).to_be_visible()
    expect(panel.locator("a[href='https://www.example.org/report.pdf']").first).to_be_visible()
    b.inspect(page, ["<img src=x onerror=alert(1)> '+alert(1)+'"])
    page.goto(f"{b.demo.base}/actions/{pk}/update/")
    page.get_by_label("Evidence link").fill("javascript:alert(1)")
    page.get_by_role("button", name="Record progress").click()
    expect(page.locator(".field", has=page.get_by_label("Evidence link")).locator(".error")).to_contain_text("javascript:")
    b.inspect(page, ["javascript:alert(1)"])

    # The evaluation office: a new evaluation, and a response returned with a payload as the reason.
    page = b.as_user("evaluation")
    page.goto(f"{b.demo.base}/evaluations/new/")
    page.get_by_label("Office").select_option(label="Policy, Programme and Intergovernmental Division")
    title = "<svg><script>alert(1)</script></svg> ＠SUM(1,1)"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Plan starts").fill("2025")
    page.get_by_label("Plan ends").fill("2026")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    b.inspect(page, [title])
    b.open(page, f"/evaluations/{seed['submitted']}/")
    page.get_by_text("Return for revision…").click()
    page.get_by_label("Reason").fill("'+alert(1)+' </textarea><script>alert(1)</script>")
    page.get_by_role("button", name="Return", exact=True).click()
    expect(page.get_by_text("Response returned to its office for revision.")).to_be_visible()
    b.inspect(page, ["'+alert(1)+' </textarea><script>alert(1)</script>"])

    # Sign-in fields.
    page = b.page()
    page.goto(f"{b.demo.base}/accounts/login/")
    page.get_by_label("Username", exact=True).fill('"><img src=x onerror=alert(1)>')
    page.get_by_label("Password", exact=True).fill("'+alert(1)+'")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("did not match")).to_be_visible()
    b.inspect(page, ['"><img src=x onerror=alert(1)>'])
    b.finish()


# --- the CSP ------------------------------------------------------------------------------------------------------


def test_every_page_as_every_role_under_the_csp_records_no_violation(browse):
    response = browse.page().goto(browse.demo.base + "/")
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    visit_all(browse)
    page = browse.page()
    page.goto(browse.demo.base + "/no/such/page/")
    browse.inspect(page)
    browse.finish()


def test_htmx_inline_progress_and_the_delete_confirmation_work_under_the_csp(browse):
    b, seed = browse, browse.demo.seed
    page = b.as_user("unit")
    nav(page, "My actions").click()
    row = page.locator("main tbody tr[id^='key-action-']").nth(1)
    pk = row.get_attribute("id").split("-")[-1]
    row.get_by_role("link", name="Update", exact=True).click()
    panel = page.locator(f"#panel-{pk}")
    expect(panel.get_by_role("button", name="Record progress")).to_be_visible()
    panel.get_by_label("New status").select_option("Completed")
    panel.get_by_label("Comment").fill("Done under the CSP.")
    panel.get_by_label("Evidence link").fill("https://example.org/csp-proof")
    panel.get_by_role("button", name="Record progress").click()
    expect(panel.get_by_text("Progress recorded.")).to_be_visible()
    expect(page.locator(f"#status-{pk}")).to_contain_text("Completed")  # swapped out of band
    assert page.url.endswith("/workspace/actions/"), "the update left the page: htmx did not run"
    b.inspect(page)

    page = b.as_user("office")
    b.open(page, f"/responses/{seed['draft_response']}/edit/")
    recs = page.locator("article.recommendation")
    before = recs.count()
    # Accepted this time: the confirmation comes from site.js, and the form is sent.
    b.accept_dialogs.append("Delete recommendation 2 and its key actions?")
    target = recs.filter(has=page.get_by_role("heading", name="Recommendation 2", exact=True))
    expect(target).to_have_count(1)
    target.locator("header").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Recommendation 2 deleted")).to_be_visible()
    expect(recs).to_have_count(before - 1)
    assert not b.accept_dialogs, "the delete confirmation did not ask"
    b.inspect(page)
    b.finish()


def test_the_django_admin_works_under_the_csp(browse):
    b = browse
    page = b.as_user("admin")
    b.open(page, "/admin/")
    b.open(page, "/admin/auth/user/")
    page.get_by_role("link", name="viewer", exact=True).click()
    # The role inline's office and unit pickers are built by the admin's JavaScript (autocomplete, select2).
    expect(page.locator(".select2-container").first).to_be_visible()
    b.inspect(page)
    # So are the permission pickers of a group (SelectFilter2.js).
    b.open(page, "/admin/auth/group/add/")
    expect(page.locator(".selector-available").first).to_be_visible()
    page.locator(".selector-available select option").first.dblclick()
    expect(page.locator(".selector-chosen select option")).to_have_count(1)
    b.inspect(page)
    b.open(page, "/admin/tracking/roleassignment/add/")
    expect(page.locator(".related-widget-wrapper").first).to_be_visible()
    b.open(page, "/admin/tracking/evaluation/")
    b.finish()


def test_error_and_sign_in_pages_carry_the_policy(browse):
    page = browse.page()
    for path in ("/no/such/page/", "/history/", "/accounts/login/", "/accounts/password_reset/", "/static/web/site.js"):
        response = page.goto(browse.demo.base + path)
        policy = response.headers.get("content-security-policy", "")
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, (path, policy)
        assert "unsafe-inline" not in policy
    browse.finish()
