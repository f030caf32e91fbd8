"""What the browser tests share: the real headless Chromium (Debian's, driven by Playwright) and
where the console's files are."""
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ASSETS = os.path.join(ROOT, "Sources", "PatrolConsole", "Assets")
CHROMIUM = os.environ.get("PATROL_CHROMIUM", "/usr/bin/chromium")


def browser():
    """A started Playwright and its headless Chromium; the caller closes both."""
    from playwright.sync_api import sync_playwright
    playwright = sync_playwright().start()
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True), playwright
