"""datum.js (the console's WGS-84 → GCJ-02 / BD-09 shift) run in the real headless Chromium, against
reference pairs published by the two projects whose formulas it follows:
googollee/eviltransform (its test tables in javascript/test.js, go/transform_test.go, python/test.py)
and wandergis/coordtransform (the results listed in test/app.js). For GCJ-02 → BD-09 only
coordtransform's pair is used: eviltransform's BD formula writes π where the original (and
coordtransform) has 3000·π/180, and its published Baidu pairs differ from this one by 10–40 m."""
import os, unittest

from console_browser import ASSETS, browser

# wgsLat, wgsLon, gcjLat, gcjLon: eviltransform's table (Shanghai, Shenzhen, Beijing).
EVILTRANSFORM_WGS_GCJ = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]
# coordtransform, test/app.js: wgs84togcj02(116.404, 39.915) and gcj02tobd09(116.404, 39.915), [lon, lat].
COORDTRANSFORM_WGS_GCJ = ((39.915, 116.404), (39.91640428150164, 116.41024449916938))
COORDTRANSFORM_GCJ_BD = ((39.915, 116.404), (39.92133699351021, 116.41036949371029))


class DatumTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.browser, cls.playwright = browser()
        cls.page = cls.browser.new_page()
        cls.page.set_content("<!doctype html><title>datum</title>")
        cls.page.add_script_tag(path=os.path.join(ASSETS, "datum.js"))

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.playwright.stop()

    def shift(self, function, lat, lon):
        return self.page.evaluate(f"([lat, lon]) => PatrolDatum.{function}(lat, lon)", [lat, lon])

    def test_wgs84_to_gcj02_matches_eviltransform_to_a_micro_degree(self):
        for wgs_lat, wgs_lon, gcj_lat, gcj_lon in EVILTRANSFORM_WGS_GCJ:
            lat, lon = self.shift("wgs84ToGcj02", wgs_lat, wgs_lon)
            self.assertAlmostEqual(lat, gcj_lat, places=6)
            self.assertAlmostEqual(lon, gcj_lon, places=6)

    def test_wgs84_to_gcj02_matches_coordtransform(self):
        (lat, lon), (gcj_lat, gcj_lon) = COORDTRANSFORM_WGS_GCJ
        got = self.shift("wgs84ToGcj02", lat, lon)
        self.assertAlmostEqual(got[0], gcj_lat, places=9)
        self.assertAlmostEqual(got[1], gcj_lon, places=9)

    def test_gcj02_to_bd09_matches_coordtransform(self):
        (lat, lon), (bd_lat, bd_lon) = COORDTRANSFORM_GCJ_BD
        got = self.shift("gcj02ToBd09", lat, lon)
        self.assertAlmostEqual(got[0], bd_lat, places=9)
        self.assertAlmostEqual(got[1], bd_lon, places=9)

    def test_bd09_tiles_get_gcj02_then_baidus_shift(self):
        (lat, lon), _ = COORDTRANSFORM_WGS_GCJ
        gcj = self.shift("wgs84ToGcj02", lat, lon)
        self.assertEqual(self.page.evaluate("([lat, lon]) => PatrolDatum.toTileDatum(lat, lon, 'bd09')", [lat, lon]),
                         self.shift("gcj02ToBd09", *gcj))

    def test_outside_china_nothing_is_shifted(self):
        for lat, lon in [(52.84897, 5.31096), (35.6812, 139.7671), (0.5, 100.0), (25.0330, 121.5654 + 20)]:
            for datum in ("gcj02", "bd09", "wgs84"):
                got = self.page.evaluate("([lat, lon, d]) => PatrolDatum.toTileDatum(lat, lon, d)", [lat, lon, datum])
                self.assertEqual(got, [lat, lon], f"{datum} at {lat},{lon}")

    def test_wgs84_tiles_get_the_position_unchanged(self):
        self.assertEqual(self.page.evaluate("PatrolDatum.toTileDatum(31.1774276, 121.5272106, 'wgs84')"), [31.1774276, 121.5272106])


if __name__ == "__main__":
    unittest.main()
