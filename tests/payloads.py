"""The payload corpus (tests/data/payloads.txt) and the checks that a page shows it as text.

Used by the server-side payload tests (tests/web/test_payloads.py) and the
browser ones (tests/browser/test_payloads.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import gateformat

FILE = Path(__file__).resolve().parent / "data" / "payloads.txt"
_ESCAPE = re.compile(r"\\(n|r|t|\\|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4})")
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}


@dataclass(frozen=True)
class Payload:
    group: str
    text: str
    line: int

    def __str__(self) -> str:
        return f"{FILE.name}:{self.line} [{self.group}] {self.text!r}"


def _unescape(line: str) -> str:
    def one(m: re.Match) -> str:
        code = m.group(1)
        return _SIMPLE[code] if code in _SIMPLE else chr(int(code[1:], 16))

    return _ESCAPE.sub(one, line)


def load() -> list[Payload]:
    payloads, group = [], ""
    for n, raw in enumerate(FILE.read_text(encoding="utf-8").splitlines(), start=1):
        head = re.fullmatch(r"# \[(.+)\]\s*", raw)
        if head:
            group = head.group(1)
            continue
        if not raw.strip() or raw == "#" or raw.startswith("# "):
            continue
        payloads.append(Payload(group, _unescape(raw), n))
    return payloads


PAYLOADS = load()


def stored_form(text: str) -> str:
    """What a form field keeps of a typed value: Django strips leading and trailing whitespace."""
    return text.strip()


def shown_form(text: str) -> str:
    """How a browser's HTML parser gives text back: CR and CRLF become LF, NUL is replaced."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")


def one_line(text: str) -> str:
    """A payload as a line of a GATE page (which is read line by line; NUL cannot be stored)."""
    return text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\x00", "")


def payload_document(payloads: list[Payload], *, office: str, responsible: str = "Evaluation Office") -> gateformat.Document:
    """An approved GATE page whose every field carries payloads, one recommendation and key action each."""
    single = [one_line(p.text) for p in payloads]
    recs = []
    for i, text in enumerate(single, start=1):
        recs.append(
            gateformat.Recommendation(
                number=str(i),
                text=f"Recommendation text {text}",
                management_response=f"Response {text}",
                category="Accepted",
                thematic_area=f"Area {text}" if i % 10 == 0 else "",
                key_actions=[
                    gateformat.KeyAction(
                        number=f"{i}.1", text=f"Action {text}", responsible=responsible, deadline="2030-01",
                        status="Initiated", comments=f"Comment {text}",
                    )
                ],
            )
        )
    return gateformat.Document(
        evaluation=gateformat.Evaluation(
            title=f"Imported {single[0]} {single[16]}", office=office, plan_office=office,
            office_type="CO", plan_start_year=2024, plan_end_year=2025,
        ),
        management_response=gateformat.ManagementResponse(status="Approved", units=[], overall_response=f"Overall {single[20]}"),
        recommendations=recs,
    )


# --- what may not be in a page that shows payloads ----------------------------------------------

# Elements no payload may produce (the pages themselves have none of these).
FORBIDDEN_TAGS = {
    "iframe", "object", "embed", "base", "math", "marquee", "video", "audio", "source", "template",
    "xmp", "plaintext", "noscript", "frame", "frameset", "applet", "foreignobject", "animate",
}
# Attributes no payload may produce: event handlers are checked by their "on" prefix.
FORBIDDEN_ATTRIBUTES = {
    "style", "srcdoc", "formaction", "xlink:href", "hx-trigger", "hx-vals", "hx-on",
    "ontoggle", "background", "dynsrc", "lowsrc",
}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "xlink:href", "hx-get", "hx-post"}
_BAD_SCHEME = re.compile(r"^\s*(?:javascript|data|vbscript|file):", re.I)


class _Scan(HTMLParser):
    def __init__(self, *, chart_svg_ok: bool = True):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self.attribute_values: list[str] = []
        self._svg_depth = 0
        self._skip = 0  # inside <script>/<style> of the page itself

    def handle_starttag(self, tag, attrs):
        self._start(tag, attrs)
        if tag in ("script", "style"):
            self._skip += 1

    def handle_startendtag(self, tag, attrs):
        self._start(tag, attrs)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        if tag == "svg" and self._svg_depth:
            self._svg_depth -= 1

    def _start(self, tag, attrs):
        where = f"<{tag} {' '.join(f'{k}={v!r}' for k, v in attrs)}>"
        attrs_d = dict(attrs)
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"element from data: {where}")
        if tag == "script" and not (attrs_d.get("src") or "").startswith(("/static/", "/admin/jsi18n/")):
            self.problems.append(f"script that is not one of the app's files: {where}")
        if tag == "style":
            self.problems.append(f"inline <style>: {where}")
        if tag == "img" and not (attrs_d.get("src") or "").startswith("/static/"):
            self.problems.append(f"image from data: {where}")
        if tag == "svg":
            # The app's charts, and the Django admin's icon sprite and theme icons.
            classes = (attrs_d.get("class") or "").split()
            if not self._svg_depth and not ({"chart", "base-svgs"} & set(classes) or any(c.startswith("theme-icon") for c in classes)):
                self.problems.append(f"<svg> that is not a chart: {where}")
            self._svg_depth += 1
        if tag == "meta" and "http-equiv" in attrs_d:
            self.problems.append(f"meta http-equiv from data: {where}")
        if tag == "link" and attrs_d.get("rel") not in ("stylesheet", "icon") or (
            tag == "link" and not (attrs_d.get("href") or "").startswith("/static/")
        ):
            self.problems.append(f"link element from data: {where}")
        for name, value in attrs:
            if name == "xlink:href" and tag == "use" and (value or "").startswith("#"):
                continue  # an icon of the page's own sprite (the admin's)
            if name.startswith("on") or name.startswith("hx-on") or name in FORBIDDEN_ATTRIBUTES:
                self.problems.append(f"attribute {name!r} from data: {where}")
            if name in URL_ATTRIBUTES and value and _BAD_SCHEME.match(value):
                self.problems.append(f"{name} with a script or data scheme: {where}")
            if value:
                self.attribute_values.append(value)

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


@dataclass
class Scan:
    problems: list[str]
    text: str
    attribute_values: list[str]

    def shows(self, value: str) -> bool:
        """The value is in the page as text, or as an attribute's value (a form field's)."""
        return value in self.text or any(value in v for v in self.attribute_values)


def scan(html: str) -> Scan:
    """Everything in a page that data could have made into markup, and the page's text."""
    parser = _Scan()
    parser.feed(html)
    parser.close()
    return Scan(parser.problems, "".join(parser.text), parser.attribute_values)
