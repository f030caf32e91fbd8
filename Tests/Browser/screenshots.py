#!/usr/bin/env python3
"""Screenshots of every console page for Docs/console/, taken in the real headless Chromium against
the same real centre and agent as the browser tests (an open panic on the desk, the demo's recorded
morning for coverage and playback).

Usage: .venv/bin/python Tests/Browser/screenshots.py [OUTPUT_FOLDER]   (default Docs/console)"""
import os, sys

from console_browser import ROOT, browser
from console_stack import DEVICE, SHIFT_DATE, STAFF, ConsoleStack


def main():
    output = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Docs", "console")
    os.makedirs(output, exist_ok=True)
    stack = ConsoleStack()
    chromium, playwright = browser()
    try:
        stack.wait_for_track()
        stack.press_panic()
        shots = [("desk", 1366, 768, "en-GB"), ("tablet", 800, 1180, "en-GB"), ("zh-CN", 1366, 768, "zh-CN")]
        for label, width, height, locale in shots:
            context = chromium.new_context(viewport={"width": width, "height": height}, locale=locale)
            page = context.new_page()
            name, password = STAFF["admin"]
            page.goto(stack.url + "/console/")
            page.fill("#signin-name", name)
            page.fill("#signin-password", password)
            page.click("#signin-submit")
            page.wait_for_selector("#alarm-list .alarm", timeout=30_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=os.path.join(output, f"map-{label}.png"))
            if label != "desk":
                context.close()
                continue
            page.goto(stack.url + "/console/#/coverage")
            page.wait_for_selector('#coverage-shift option[value="09:00-11:00"]', state="attached")
            page.fill("#coverage-date", SHIFT_DATE)
            page.select_option("#coverage-shift", "09:00-11:00")
            page.click('#coverage-form button[type="submit"]')
            page.wait_for_selector("#coverage-result:not([hidden])")
            page.wait_for_timeout(800)
            page.screenshot(path=os.path.join(output, "coverage.png"), full_page=True)
            page.emulate_media(media="print")
            page.screenshot(path=os.path.join(output, "coverage-print.png"), full_page=True)
            page.emulate_media(media="screen")
            page.goto(stack.url + "/console/#/tracks")
            page.select_option("#track-unit", DEVICE)
            # The centre's zone is Asia/Shanghai: the recorded morning 09:00-11:00 UTC is 17:00-19:00 there.
            page.fill("#track-from", f"{SHIFT_DATE}T17:00")
            page.fill("#track-to", f"{SHIFT_DATE}T19:00")
            page.click('#track-form button[type="submit"]')
            page.wait_for_selector("#track-slider:not([disabled])")
            page.eval_on_selector("#track-slider", "s => { s.value = String(Math.round(s.max * 0.6)); s.dispatchEvent(new Event('input')); }")
            page.wait_for_timeout(800)
            page.screenshot(path=os.path.join(output, "tracks.png"))
            page.goto(stack.url + "/console/#/devices")
            page.wait_for_selector(f'#device-table tr[data-device="{DEVICE}"]')
            page.screenshot(path=os.path.join(output, "devices.png"))
            page.click("#signout")
            page.wait_for_selector("#signin:not([hidden])")
            page.screenshot(path=os.path.join(output, "signin.png"))
            context.close()
    finally:
        chromium.close()
        playwright.stop()
        stack.close()
    print("screenshots in", output)


if __name__ == "__main__":
    main()
