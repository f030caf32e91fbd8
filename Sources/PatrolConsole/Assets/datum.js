// Map datums used by basemaps in China. GPS (and the centre's store) gives WGS-84; AMap/Gaode and
// Tencent tiles are drawn in GCJ-02, Baidu's in BD-09. The console shifts everything it draws
// (units, tails, tracks, areas, cells, checkpoints) into the tile source's datum so that a track
// lies on the road it drove. The formulas are the widely published ones: WGS-84 → GCJ-02 and the
// rectangle the algorithm calls China as in googollee/eviltransform (javascript/transform.js:
// outOfChina, gcjDelta, wgs2gcj), GCJ-02 → BD-09 with its 3000·π/180 factor as in
// wandergis/coordtransform (index.js: gcj02tobd09). Tests/Browser/test_datum.py checks this file
// against both projects' published reference pairs. Outside that rectangle nothing is shifted.
"use strict";
(function (global) {
  // Krasovsky 1940, the ellipsoid GCJ-02 is defined on.
  const KRASOVSKY_A = 6378245.0;
  const KRASOVSKY_EE = 0.00669342162296594323;

  /** The algorithm's own bounds of China (a rectangle, not the border). */
  function outsideChina(lat, lon) {
    return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
  }

  function offsetNorth(x, y) {
    let v = 20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI);
    v += 20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI);
    v += 160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30);
    return v * 2 / 3 - 100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  }

  function offsetEast(x, y) {
    let v = 20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI);
    v += 20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI);
    v += 150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI);
    return v * 2 / 3 + 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  }

  /** WGS-84 → GCJ-02, as [lat, lon]. */
  function wgs84ToGcj02(lat, lon) {
    if (outsideChina(lat, lon)) return [lat, lon];
    const north = offsetNorth(lon - 105, lat - 35), east = offsetEast(lon - 105, lat - 35);
    const radLat = lat / 180 * Math.PI;
    const sinLat = Math.sin(radLat);
    const magic = 1 - KRASOVSKY_EE * sinLat * sinLat;
    const sqrtMagic = Math.sqrt(magic);
    const dLat = north * 180 / ((KRASOVSKY_A * (1 - KRASOVSKY_EE)) / (magic * sqrtMagic) * Math.PI);
    const dLon = east * 180 / (KRASOVSKY_A / sqrtMagic * Math.cos(radLat) * Math.PI);
    return [lat + dLat, lon + dLon];
  }

  /** GCJ-02 → BD-09 (Baidu's further rotation and shift), as [lat, lon]. */
  function gcj02ToBd09(lat, lon) {
    if (outsideChina(lat, lon)) return [lat, lon];
    const xPi = Math.PI * 3000 / 180;
    const z = Math.sqrt(lon * lon + lat * lat) + 0.00002 * Math.sin(lat * xPi);
    const theta = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * xPi);
    return [z * Math.sin(theta) + 0.006, z * Math.cos(theta) + 0.0065];
  }

  /** A WGS-84 position as the tile source's datum ("wgs84", "gcj02" or "bd09") draws it, as [lat, lon]. */
  function toTileDatum(lat, lon, datum) {
    if (datum === "gcj02") return wgs84ToGcj02(lat, lon);
    if (datum === "bd09") {
      const gcj = wgs84ToGcj02(lat, lon);
      return gcj02ToBd09(gcj[0], gcj[1]);
    }
    return [lat, lon];
  }

  global.PatrolDatum = { outsideChina, wgs84ToGcj02, gcj02ToBd09, toTileDatum };
})(window);
