"""The centre's web console in the real headless Chromium, against a real patrol-centre fed by a real
patrol-agent (gpsfake replaying the demo's recording, a button box on a pseudo-terminal): what staff
do at the desk, and what the console must refuse."""
import html.parser, json, os, re, select, time, unittest

from console_browser import ASSETS, browser
from console_stack import DEVICE, SHIFT_DATE, STAFF, ConsoleStack

stack = None
chromium = None
playwright = None


def setUpModule():
    global stack, chromium, playwright
    stack = ConsoleStack()
    chromium, playwright = browser()


def tearDownModule():
    if chromium:
        chromium.close()
    if playwright:
        playwright.stop()
    if stack:
        stack.close()


def box_lines(timeout):
    """Every frame the agent wrote to the button box until `timeout` seconds pass without one."""
    received = b""
    while select.select([stack.box.controller], [], [], timeout)[0]:
        received += os.read(stack.box.controller, 4096)
    return stack.box.pending.decode(errors="replace") + received.decode(errors="replace")


def wait_for_box(token, timeout):
    """True once the agent has written a frame containing `token` to the box."""
    return stack.box.wait_for(token.encode(), timeout) is not None


class ConsoleTestCase(unittest.TestCase):
    locale = "en-GB"

    def setUp(self):
        self.context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale=self.locale)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        # The centre's strict Content-Security-Policy: anything it blocks is a defect of the page.
        self.page.on("console", lambda message: "Content Security Policy" in message.text and self.errors.append(message.text))

    def tearDown(self):
        self.context.close()
        self.assertEqual(self.errors, [], "the page's script failed or broke the CSP")

    def sign_in(self, role, password=None):
        name, right_password = STAFF[role]
        self.page.goto(stack.url + "/console/")
        self.page.fill("#signin-name", name)
        self.page.fill("#signin-password", password or right_password)
        self.page.click("#signin-submit")

    def signed_in(self, role):
        self.sign_in(role)
        self.page.wait_for_selector("#app:not([hidden])", timeout=10_000)

    def desk_alarm(self, alarm_id, timeout=20_000):
        return self.page.wait_for_selector(f'#alarm-list .alarm[data-alarm-id="{alarm_id}"]', timeout=timeout)

    def new_alarm(self):
        """Presses panic on the box; returns the id of the alarm the centre opened for it."""
        before = {alarm_id for alarm_id, _ in stack.open_alarms()}
        stack.press_panic()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            fresh = [alarm_id for alarm_id, device in stack.open_alarms() if device == DEVICE and alarm_id not in before]
            if fresh:
                return fresh[0]
            time.sleep(0.2)
        self.fail("the panic never reached the centre:\n" + stack.log("agent.log")[-2000:])


class SignInTests(ConsoleTestCase):
    def test_a_wrong_password_is_refused(self):
        self.sign_in("operator", password="not-the-password")
        error = self.page.wait_for_selector("#signin-error:not([hidden])", timeout=10_000)
        self.assertEqual(error.text_content(), "Wrong name or password.")
        self.assertTrue(self.page.is_hidden("#app"))
        response = self.page.request.get(stack.url + "/console/api/units")
        self.assertEqual(response.status, 401)

    def test_the_right_password_signs_in_and_shows_the_desk_and_map(self):
        self.signed_in("operator")
        self.assertEqual(self.page.text_content("#who"), "olga (operator)")
        self.page.wait_for_selector("#page-map:not([hidden])")
        self.page.wait_for_selector(f'#unit-list li[data-device="{DEVICE}"]', timeout=20_000)
        self.assertTrue(self.page.is_visible("#alarm-desk"))
        self.assertTrue(self.page.is_visible(".leaflet-control-scale"), "no basemap configured: a scale bar on a plain background")

    def test_a_state_changing_request_without_the_csrf_token_is_refused(self):
        self.signed_in("operator")
        answer = self.page.evaluate("""async () => {
            const response = await fetch('/console/api/session', {method: 'DELETE', credentials: 'same-origin'});
            return {status: response.status, body: await response.json()};
        }""")
        self.assertEqual(answer["status"], 403)
        self.assertEqual(answer["body"]["error"], "csrf")
        # Still signed in: the refused request changed nothing.
        self.assertEqual(self.page.request.get(stack.url + "/console/api/session").status, 200)

    def test_an_operator_opening_an_admin_page_is_refused(self):
        self.signed_in("operator")
        self.assertTrue(self.page.is_hidden('nav a[data-page="devices"]'))
        self.page.goto(stack.url + "/console/#/devices")
        refused = self.page.wait_for_selector("#page-refused:not([hidden])", timeout=10_000)
        self.assertEqual(refused.text_content().strip(), "Your role may not open this page.")
        self.assertTrue(self.page.is_hidden("#page-devices"))
        response = self.page.request.get(stack.url + "/console/api/devices")
        self.assertEqual(response.status, 403)
        self.assertEqual(response.json()["error"], "forbidden-role")


    def test_an_expired_session_is_refused_and_the_console_asks_to_sign_in_again(self):
        self.signed_in("supervisor")
        # The open console's own requests (its live feed reconnecting) must not meet the expired
        # session first: the centre forgets a session when it refuses it as expired.
        self.page.goto("about:blank")
        stack.age_sessions(STAFF["supervisor"][0], hours=48)
        response = self.page.request.get(stack.url + "/console/api/units")
        self.assertEqual(response.status, 401)
        self.assertEqual(response.json()["error"], "session-expired")
        self.page.goto(stack.url + "/console/")
        error = self.page.wait_for_selector("#signin-error:not([hidden])", timeout=10_000)
        self.assertEqual(error.text_content(), "Your session has expired. Please sign in again.")
        self.assertTrue(self.page.is_hidden("#app"))


class AlarmDeskTests(ConsoleTestCase):
    def test_a_panic_on_the_box_shows_on_the_desk_and_its_acknowledgement_turns_the_box_led_steady(self):
        self.signed_in("operator")
        self.page.wait_for_selector(".feed-state.live", timeout=10_000)
        alarm_id = self.new_alarm()
        item = self.desk_alarm(alarm_id)
        self.assertEqual(item.query_selector(".alarm-unit").text_content(), DEVICE)
        self.assertEqual(item.query_selector(".alarm-kind").text_content(), "Panic")
        self.assertRegex(item.query_selector(".alarm-fix-age").text_content(), r"^(last known fix, .+ old|no position reported)$")
        self.assertRegex(self.page.title(), r"Alarm|NEW ALARM")
        self.assertNotIn(",LED,1,ON*", box_lines(0.5), "the LED is steady before anyone acknowledged")
        item.query_selector(".ack-note").fill("called the guard, all well")
        item.query_selector(".ack-button").click()
        self.page.wait_for_selector(f'#alarm-list .alarm[data-alarm-id="{alarm_id}"]', state="detached", timeout=10_000)
        self.assertNotIn(alarm_id, [a for a, _ in stack.open_alarms()])
        self.assertTrue(wait_for_box(",LED,1,ON*", 30), "the box LED never turned steady:\n" + stack.log("agent.log")[-2000:])

    def test_an_alarm_can_be_found_and_acknowledged_with_the_keyboard_alone(self):
        self.signed_in("operator")
        alarm_id = self.new_alarm()
        self.desk_alarm(alarm_id)
        self.page.keyboard.press("Alt+a")  # to the oldest open alarm
        while self.page.evaluate("document.activeElement.dataset.alarmId") != alarm_id:
            focused = self.page.evaluate("document.activeElement.dataset.alarmId")
            self.assertIsNotNone(focused, "Alt+A did not move the focus to an alarm")
            self.page.keyboard.press("ArrowDown")
            self.assertNotEqual(self.page.evaluate("document.activeElement.dataset.alarmId"), focused, "↓ did not move on")
        outline = self.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        self.assertNotEqual(outline, "none", "the focused alarm shows no focus")
        self.page.keyboard.press("Enter")  # to the note
        self.page.keyboard.type("on the radio with the guard")
        self.page.keyboard.press("Enter")  # acknowledges
        self.page.wait_for_selector(f'#alarm-list .alarm[data-alarm-id="{alarm_id}"]', state="detached", timeout=10_000)
        self.assertNotIn(alarm_id, [a for a, _ in stack.open_alarms()])


class CoverageTests(ConsoleTestCase):
    def test_the_coverage_page_shows_the_cells_and_checkpoints_that_coverage_json_reports(self):
        expected = stack.wait_for_track()
        self.signed_in("supervisor")
        self.page.goto(stack.url + "/console/#/coverage")
        self.page.wait_for_selector('#coverage-shift option[value="09:00-11:00"]', state="attached", timeout=10_000)
        self.page.fill("#coverage-date", SHIFT_DATE)
        self.page.select_option("#coverage-shift", "09:00-11:00")
        self.page.click('#coverage-form button[type="submit"]')
        result = self.page.wait_for_selector("#coverage-result:not([hidden])", timeout=20_000)
        shift = next(s for s in expected["shifts"] if s["device"] == DEVICE)
        self.assertGreater(shift["covered_cells"], 0, "the recording covers part of the plan")
        covered = result.get_attribute("data-covered-cells").split()
        missed = result.get_attribute("data-missed-cells").split()
        self.assertEqual(len(covered), shift["covered_cells"])
        self.assertEqual(sorted(missed), sorted(shift["uncovered_cells"]))
        # What the map draws: every assigned cell, green where covered.
        self.assertEqual(len(self.page.query_selector_all("#coverage-map path.coverage-cell")), shift["assigned_cells"])
        self.assertEqual(len(self.page.query_selector_all("#coverage-map path.coverage-cell.covered")), shift["covered_cells"])
        rows = self.page.query_selector_all(f'.shift-report[data-device="{DEVICE}"] table.checkpoints tbody tr')
        shown = [(row.query_selector("td").text_content(), row.query_selector(".visit").get_attribute("data-status")) for row in rows]
        self.assertEqual(shown, [(v["id"], v["status"]) for v in shift["checkpoints"]])
        csv = self.page.request.get(stack.url + self.page.get_attribute("#coverage-csv", "href"))
        self.assertEqual(csv.status, 200)
        self.assertIn(DEVICE, csv.text())


class TrackAndDeviceTests(ConsoleTestCase):
    def test_track_playback_moves_the_marker_along_the_track_and_offers_gpx(self):
        stack.wait_for_track()
        self.signed_in("supervisor")
        self.page.goto(stack.url + "/console/#/tracks")
        self.page.wait_for_selector(f'#track-unit option[value="{DEVICE}"]', state="attached")
        self.page.select_option("#track-unit", DEVICE)
        # The centre's zone is Asia/Shanghai: the recorded morning, 09:00-11:00 UTC, is 17:00-19:00 there.
        self.page.fill("#track-from", f"{SHIFT_DATE}T17:00")
        self.page.fill("#track-to", f"{SHIFT_DATE}T19:00")
        self.page.click('#track-form button[type="submit"]')
        slider = self.page.wait_for_selector("#track-slider:not([disabled])", timeout=10_000)
        self.assertGreater(int(slider.get_attribute("max")), 0)
        marker = "#track-map path.track-marker"
        start, start_time = self.page.get_attribute(marker, "d"), self.page.text_content("#track-time")
        self.page.eval_on_selector("#track-slider", "s => { s.value = s.max; s.dispatchEvent(new Event('input')); }")
        self.assertNotEqual(self.page.get_attribute(marker, "d"), start, "the marker did not move")
        self.assertNotEqual(self.page.text_content("#track-time"), start_time)
        self.assertRegex(self.page.text_content("#track-time"), r"\b1[78]:\d\d:\d\d\b", "times in the centre's zone")
        gpx = self.page.request.get(stack.url + self.page.get_attribute("#track-gpx", "href"))
        self.assertEqual(gpx.status, 200)
        self.assertEqual(gpx.text().count("<trkpt"), int(slider.get_attribute("max")) + 1)

    def test_an_admin_adds_a_device_sees_its_key_once_and_revokes_it(self):
        self.signed_in("admin")
        self.page.goto(stack.url + "/console/#/devices")
        self.page.wait_for_selector(f'#device-table tr[data-device="{DEVICE}"]', timeout=10_000)
        self.page.fill("#device-name", "booth-7")
        self.page.click('#device-form button[type="submit"]')
        key = self.page.wait_for_selector("#device-key:not([hidden]) code", timeout=10_000).text_content()
        self.assertRegex(key, r"^[0-9a-f]{64}$")
        self.page.wait_for_selector('#device-table tr[data-device="booth-7"]')
        self.page.on("dialog", lambda dialog: dialog.accept())
        self.page.click('#device-table tr[data-device="booth-7"] button.danger')
        self.page.wait_for_selector('#device-table tr[data-device="booth-7"]:not(:has(button.danger))', timeout=10_000)
        self.assertIn("revoked", self.page.text_content('#device-table tr[data-device="booth-7"]'))
        self.page.reload()
        self.page.wait_for_selector('#device-table tr[data-device="booth-7"]', timeout=10_000)
        self.assertNotIn(key, self.page.content(), "the key is shown once, not again")


class LanguageTests(ConsoleTestCase):
    locale = "zh-CN"

    def test_both_catalogues_have_the_same_keys(self):
        with open(os.path.join(ASSETS, "i18n", "en.json")) as f:
            english = json.load(f)
        with open(os.path.join(ASSETS, "i18n", "zh-CN.json")) as f:
            chinese = json.load(f)
        self.assertEqual(sorted(english), sorted(chinese))
        self.assertTrue(all(text.strip() for text in chinese.values()))

    def test_index_html_holds_no_text_of_its_own(self):
        texts = []

        class Collector(html.parser.HTMLParser):
            def handle_data(self, data):
                if data.strip():
                    texts.append(data.strip())

        with open(os.path.join(ASSETS, "index.html")) as f:
            Collector().feed(f.read())
        self.assertEqual(texts, [])

    def test_a_chinese_browser_gets_every_page_in_chinese(self):
        with open(os.path.join(ASSETS, "i18n", "en.json")) as f:
            english = json.load(f)
        with open(os.path.join(ASSETS, "i18n", "zh-CN.json")) as f:
            chinese = json.load(f)
        # English UI words: the parts of each English string between its placeholders.
        words = {part.strip() for key, text in english.items() if text != chinese[key] and not key.startswith("language.")
                 for part in re.split(r"\{\w+\}", text) if len(re.sub(r"[^A-Za-z]", "", part)) >= 3}
        self.signed_in("admin")
        self.assertEqual(self.page.evaluate("document.documentElement.lang"), "zh-CN")
        for page in ("map", "coverage", "tracks", "devices"):
            self.page.goto(stack.url + f"/console/#/{page}")
            self.page.wait_for_selector(f"#page-{page}:not([hidden])")
            self.page.wait_for_timeout(500)
            shown = self.page.evaluate("""() => {
                const copy = document.body.cloneNode(true);
                copy.querySelectorAll('.language-select, [hidden], #unit-list, #alarm-list, #device-table tbody').forEach(n => n.remove());
                return copy.innerText + ' ' + [...document.querySelectorAll('[aria-label], [placeholder]')]
                    .map(n => (n.getAttribute('aria-label') || '') + ' ' + (n.getAttribute('placeholder') || '')).join(' ');
            }""")
            self.assertEqual(sorted(w for w in words if w in shown), [], f"English on the {page} page")
        self.assertRegex(self.page.title(), r"指挥中心")

    def test_the_menu_switches_language_and_remembers_it(self):
        self.signed_in("operator")
        self.assertEqual(self.page.text_content('nav a[data-page="map"]'), "实时地图")
        self.page.select_option("#app .language-select", "en")
        self.page.wait_for_selector('html[lang="en"]', state="attached")
        self.assertEqual(self.page.text_content('nav a[data-page="map"]'), "Live map")
        self.page.reload()
        self.page.wait_for_selector("#app:not([hidden])")
        self.assertEqual(self.page.text_content('nav a[data-page="map"]'), "Live map")


if __name__ == "__main__":
    unittest.main()
