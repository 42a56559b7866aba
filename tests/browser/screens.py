"""Screen sizes for the browser tests: a phone (390 px wide) and a laptop (1366 px).

Shared by tests/browser/test_small_screens.py (every page of each role fits)
and tests/browser/test_roles_day.py (each role's day, clicked through).
"""

from __future__ import annotations

import os
from pathlib import Path

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}
WIDTHS = {"390": PHONE, "1366": LAPTOP}

ROOT = Path(__file__).resolve().parents[2]
# Screenshots to look at, kept out of git (.gitignore): var/screenshots/<test>/<width>/NN-step.png.
SCREENSHOTS = Path(os.environ.get("FOLLOWTHROUGH_SCREENSHOTS", ROOT / "var" / "screenshots"))

# What sticks out of the screen, sideways, outside a box that scrolls on its own (a table's wrap):
# the outermost such elements, described for the failure message. The skip link waits off-screen
# on purpose until it has the focus, as do visually hidden labels.
OVERFLOW_JS = r"""() => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  if (document.documentElement.scrollWidth > window.innerWidth) {
    problems.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${window.innerWidth} px window`);
  }
  const scrollsOnItsOwn = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const x = getComputedStyle(p).overflowX;
      if (x === 'auto' || x === 'scroll' || x === 'hidden' || x === 'clip') return true;
    }
    return false;
  };
  const describe = (el) => {
    let s = el.localName;
    if (el.id) s += '#' + el.id;
    if (el.classList.length) s += '.' + [...el.classList].join('.');
    const text = (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 50);
    return text ? `${s} (“${text}”)` : s;
  };
  const wide = new Set();
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.skip-link, .visually-hidden')) continue;
    if (!el.checkVisibility()) continue;  // in a closed <details>, say: measured when it is opened
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right <= width + 1 && r.left >= -1) continue;
    if (scrollsOnItsOwn(el)) continue;
    wide.add(el);
  }
  for (const el of wide) {
    if (el.parentElement && wide.has(el.parentElement)) continue;  // its parent is named already
    const r = el.getBoundingClientRect();
    problems.push(`${describe(el)} spans ${Math.round(r.left)}..${Math.round(r.right)} px`);
  }
  return problems;
}"""


def overflow(page) -> list[str]:
    """What makes the page wider than the window, as a person scrolling sideways would find it."""
    return page.evaluate(OVERFLOW_JS)


def screenshot_dir(name: str, width: str) -> Path:
    folder = SCREENSHOTS / name / width
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_menu(page) -> None:
    """On a phone the main menu folds into a "Menu" button: open it (nothing to do on a laptop)."""
    toggle = page.locator("header details.menu > summary")
    if toggle.count() and toggle.is_visible() and page.locator("header details.menu[open]").count() == 0:
        toggle.click()
