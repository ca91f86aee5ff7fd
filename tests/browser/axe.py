"""axe-core (vendored from the npm registry under tests/browser/vendor/) run on the page a
browser tab shows: the violations of impact serious or critical."""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SERIOUS = ("serious", "critical")


def serious_violations(page) -> list[dict]:
    """axe's WCAG 2 A/AA checks on `page`; each violation as {id, impact, help, targets}."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("""async () => {
        const result = await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            targets: v.nodes.map(n => n.target.join(' '))}));
    }""")
    return [v for v in violations if v["impact"] in SERIOUS]
