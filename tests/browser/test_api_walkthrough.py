"""The API tried as a new user would, after `make run`: the real server, a real browser, real curl.

The unit focal point signs in, opens their API tokens page from their name in
the header, makes a token and copies it; then, with curl and that token
alone, finds a key action they report on, reads its ETag and posts a
progress update with If-Match; the update shows on the key action's page
(its timeline). The docs page lists every endpoint of the schema, drawn
with the app's own files: no request leaves the server, no script error, no
Content-Security-Policy violation.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from tests.browser.test_walkthrough import (  # noqa: F401  (the walkthrough's server and browser, shared)
    UNIT_FOCAL_POINT,
    _browser,
    _sessions,
    demo,
    expect,
    web,
)


def curl(*args: str) -> tuple[int, dict, str]:
    """Run curl as a person would; (status, headers, body)."""
    assert shutil.which("curl"), "curl is needed for this test (apt-get install curl)"
    p = subprocess.run(["curl", "-sS", "-i", *args], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    head, _, body = p.stdout.replace("\r\n", "\n").partition("\n\n")
    lines = head.splitlines()
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


@pytest.fixture
def violations(web):  # noqa: F811  (the walkthrough's fixture)
    """Console messages of CSP violations, from every page of this test."""
    found: list[str] = []
    original = web.context

    def context(**kwargs):
        ctx = original(**kwargs)
        ctx.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
        return ctx

    web.context = context
    return found


def test_a_token_made_on_the_profile_page_updates_a_key_action_with_curl_and_it_shows_on_the_timeline(web, violations):  # noqa: F811
    base = web.demo.base
    unit = web.demo.user(UNIT_FOCAL_POINT)
    page = web.as_user(unit)
    page.get_by_role("link", name=unit).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    web.check(page)
    page.get_by_label("Name").fill("my curl")
    page.get_by_role("button", name="Make token").click()
    token = page.locator("code.token").text_content().strip()
    assert re.fullmatch(r"ft_[\w-]{20,}", token)
    web.check(page)
    expect(page.locator("main table")).to_contain_text("my curl")
    page.goto(f"{base}/accounts/tokens/")
    expect(page.locator("main table")).to_contain_text("my curl")
    assert token not in page.content() and page.locator("code.token").count() == 0  # shown once

    auth = f"Authorization: Bearer {token}"
    status, _, body = curl("-H", auth, f"{base}/api/v1/key-actions?mine=true&limit=1")
    assert status == 200, body
    (action,) = json.loads(body)["items"]
    status, headers, body = curl("-H", auth, f"{base}/api/v1/key-actions/{action['id']}")
    assert status == 200 and headers["etag"], body
    comment = "Sent with curl and a personal token."
    status, headers, body = curl(
        "-X", "POST", "-H", auth, "-H", "Content-Type: application/json", "-H", f"If-Match: {headers['etag']}",
        "--data", json.dumps({"status": "Initiated", "comment": comment,
                               # asked for only if the demo's action is Completed (moving it back asks why)
                               "reopen_reason": "Reopened from the command line."}), f"{base}/api/v1/key-actions/{action['id']}/progress-updates",
    )
    assert status == 201, body
    assert json.loads(body)["author"] == unit
    # The same If-Match again: stale, nothing saved.
    status, _, body = curl(
        "-X", "POST", "-H", auth, "-H", "Content-Type: application/json", "-H", "If-Match: " + f'"keyaction-{action["id"]}-v{action["version"]}"',
        "--data", json.dumps({"status": "Completed", "comment": "late", "evidence_url": "https://example.org/late.pdf"}), f"{base}/api/v1/key-actions/{action['id']}/progress-updates",
    )
    assert status == 412 and json.loads(body)["code"] == "stale"

    timeline = web.page()
    timeline.goto(f"{base}/actions/{action['id']}/")
    expect(timeline.locator("main")).to_contain_text(comment)
    web.check(timeline)
    assert not violations, violations
    web.finish()


def test_the_docs_page_lists_every_endpoint_with_the_apps_own_files(web, violations):  # noqa: F811
    base = web.demo.base
    status, _, body = curl(f"{base}/api/v1/openapi.json")
    assert status == 200
    schema = json.loads(body)
    expected = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    assert len(expected) > 30
    page = web.page()
    page.goto(f"{base}/api/v1/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    shown = page.locator(".opblock").evaluate_all(
        """blocks => blocks.map(b => [b.querySelector('.opblock-summary-method').textContent.trim(),
                                       b.querySelector('.opblock-summary-path').getAttribute('data-path')])"""
    )
    assert {tuple(s) for s in shown} == expected
    assert not violations, violations
    web.finish()
