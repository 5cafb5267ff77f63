"""axe-core (from node_modules, pinned in package.json) run on a page in the browser.

The checker is injected as a script tag, which a page's Content-Security-Policy forbids:
the contexts that run it bypass the policy (:func:`axe_context`), and the policy itself is
tested with the page's own scripts in ``tests/test_security_headers.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
#: WCAG 2.0 and 2.1, levels A and AA.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: The impacts a page must never have.
BLOCKING = ("serious", "critical")

RUN = """async (tags) => {
  const result = await window.axe.run(document, {
    runOnly: { type: "tag", values: tags },
    // WCAG 2.5.3 (label in name) is "experimental" in axe: on by request.
    rules: { "label-content-name-mismatch": { enabled: true } },
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => [n.target.join(" "), n.failureSummary]),
  }));
}"""


def axe_context(browser: Any, **options: Any) -> Any:
    """A browser context at the tests' viewport in which axe can be injected."""
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: run `npm ci`")
    return browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True, **options)


def violations(page: Any) -> list[dict[str, Any]]:
    """The page's WCAG 2.1 AA violations as axe reports them."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(RUN, WCAG_AA)
    return found


def blocking(page: Any) -> list[dict[str, Any]]:
    """The serious and critical violations of the page."""
    return [v for v in violations(page) if v["impact"] in BLOCKING]


def describe(found: list[dict[str, Any]]) -> str:
    lines = []
    for violation in found:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(f"    {target}: {summary}" for target, summary in violation["targets"][:8])
    return "\n".join(lines)
