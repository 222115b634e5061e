"""Watching a Playwright page for Content-Security-Policy violations.

The recorder is an init script: Playwright injects it through the DevTools protocol into every
document the page loads, before the page's own scripts, and the page's policy does not apply to
it. A blocked inline script, style or handler fires ``securitypolicyviolation`` at the document;
Chromium also logs the refusal to the console (kept as a second witness).
"""

from __future__ import annotations

RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
  );
});
"""


class CspWatch:
    """Violations of one page: ``found()`` for the current document plus the console's."""

    def __init__(self, page) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(RECORDER)
        page.on("console", self._console)

    def _console(self, message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.console.append(message.text)

    def found(self) -> list[str]:
        return [*self.page.evaluate("window.__cspViolations || []"), *self.console]

    def assert_clean(self, where: str) -> None:
        violations = self.found()
        assert violations == [], f"{where}: {violations}"
