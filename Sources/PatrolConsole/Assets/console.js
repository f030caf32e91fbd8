// The centre's web console (plain ES2017, no build step). It talks only to patrol-centre's
// /console/api (Docs: the console contract) and draws with the vendored Leaflet. Every visible
// string comes from the i18n catalogues; every time is shown in the centre's time zone; every
// position is shifted into the tile source's datum (datum.js) before it is drawn. Text from the
// server is only ever set with textContent, never parsed as HTML.
"use strict";
(function () {
  const API = "/console/api";
  const LANGUAGES = ["en", "zh-CN"];
  const LANGUAGE_KEY = "patrol.console.language";
  const SIGNED_IN_KEY = "patrol.console.signedIn";
  const ROLE_RANK = { operator: 0, supervisor: 1, admin: 2 };
  const UNIT_STATES = ["moving", "stopped", "silent", "no-fix", "alarm"];
  const STATE_COLOURS = { moving: "#1a7f37", stopped: "#0550ae", silent: "#6e7781", "no-fix": "#9a6700", alarm: "#cf222e" };
  const PAGES = ["map", "coverage", "tracks", "devices"];
  const PAGE_ROLE = { map: "operator", coverage: "supervisor", tracks: "supervisor", devices: "admin" };

  const state = {
    language: "en",
    catalogue: {},
    session: null, // {name, role, csrf}
    config: null,
    alarms: new Map(), // id -> alarm
    units: new Map(), // device -> unit
    events: null,
    reconnectDelay: 1000,
    audio: null,
    titleFlash: null,
    page: null,
    maps: {},
    plans: new Map(), // name -> plan JSON
    coverage: null,
    track: null,
  };

  const $ = (id) => document.getElementById(id);
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  };

  // ---- Language -------------------------------------------------------------------------------

  function pickLanguage() {
    const saved = localStorage.getItem(LANGUAGE_KEY);
    if (LANGUAGES.includes(saved)) return saved;
    const wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
    for (const tag of wanted) {
      if (/^zh\b/i.test(tag)) return "zh-CN";
      if (/^en\b/i.test(tag)) return "en";
    }
    return "en";
  }

  async function loadLanguage(language) {
    const response = await fetch(`/console/assets/i18n/${language}.json`, { credentials: "same-origin" });
    state.catalogue = await response.json();
    state.language = language;
    document.documentElement.lang = language;
    translatePage();
  }

  /** The catalogue's text for `key` with `{name}` placeholders filled from `values`. */
  function t(key, values) {
    let text = state.catalogue[key];
    if (text === undefined) {
      console.warn("missing string", key);
      text = key;
    }
    if (values) text = text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
    return text;
  }

  function translatePage() {
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-aria-label]")) node.setAttribute("aria-label", t(node.dataset.i18nAriaLabel));
    for (const select of document.querySelectorAll(".language-select")) {
      select.textContent = "";
      for (const language of LANGUAGES) {
        const option = el("option", null, t(`language.${language}`));
        option.value = language;
        option.selected = language === state.language;
        select.append(option);
      }
    }
    fillStateFilter();
    updateTitle();
    if (state.session) {
      $("who").textContent = whoText();
      renderAlarms();
      renderUnits();
      if (state.coverage) renderCoverage();
      if (state.track) showTrackPoint();
      fillShiftChoices();
      fillTrackUnits();
      if (state.page === "devices") loadDevices();
    }
    updateFeedState();
  }

  // ---- Time -----------------------------------------------------------------------------------

  function zone() {
    return (state.config && state.config.timeZone) || "UTC";
  }

  /** Milliseconds since 1970 from the API's time fields (ISO text or Unix milliseconds). */
  function ms(value) {
    if (value === null || value === undefined) return null;
    if (typeof value === "number") return value;
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? null : parsed;
  }

  /** A time in the centre's zone, or in `timeZone` (a coverage report is read in its plan's zone). */
  function formatTime(value, withDate, timeZone) {
    const time = ms(value);
    if (time === null) return "";
    const options = { timeZone: timeZone || zone(), hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
    if (withDate) Object.assign(options, { year: "numeric", month: "2-digit", day: "2-digit" });
    return new Intl.DateTimeFormat(state.language, options).format(new Date(time));
  }

  /** "45 s", "4 min", "2 h 5 min" in the current language. */
  function formatAge(milliseconds) {
    const seconds = Math.max(0, Math.round(milliseconds / 1000));
    if (seconds < 60) return t("age.seconds", { n: seconds });
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return t("age.minutes", { n: minutes });
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return t("age.hours", { h: hours, m: minutes % 60 });
    return t("age.days", { n: Math.floor(hours / 24) });
  }

  /** The zone's offset from UTC, in milliseconds, at the instant `utcMs`. */
  function zoneOffset(utcMs, timeZone) {
    const parts = {};
    const format = new Intl.DateTimeFormat("en-US", {
      timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
    for (const part of format.formatToParts(new Date(utcMs))) parts[part.type] = part.value;
    const asUTC = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
    return asUTC - Math.floor(utcMs / 1000) * 1000;
  }

  /** The UTC instant of a wall-clock time ("YYYY-MM-DD", minutes after midnight) in `timeZone`. */
  function zonedToUTC(date, minutes, timeZone) {
    const [year, month, day] = date.split("-").map(Number);
    const wall = Date.UTC(year, month - 1, day) + minutes * 60000;
    let guess = wall - zoneOffset(wall, timeZone);
    guess = wall - zoneOffset(guess, timeZone); // once more, for a change of offset in between
    return guess;
  }

  /** "YYYY-MM-DDTHH:MM" of `utcMs` in the centre's zone, for datetime-local inputs. */
  function localInputValue(utcMs) {
    const shifted = new Date(utcMs + zoneOffset(utcMs, zone()));
    return shifted.toISOString().slice(0, 16);
  }

  function fromLocalInput(value) {
    const [date, clock] = value.split("T");
    const [hours, minutes] = clock.split(":").map(Number);
    return zonedToUTC(date, hours * 60 + minutes, zone());
  }

  // ---- API ------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message || code);
      this.status = status;
      this.code = code;
    }
  }

  /** A JSON request to the console API; state-changing ones carry the session's CSRF token. */
  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && state.session) headers["X-CSRF-Token"] = state.session.csrf;
    let response;
    try {
      response = await fetch(API + path, {
        method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, "network", t("error.network"));
    }
    if (response.status === 204) return null;
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
    if (!response.ok) {
      // The centre's error JSON: {"error": code, "message": …} (an {"error": {code, message}} object is read too).
      const error = data && data.error;
      const code = typeof error === "string" ? error : (error && error.code) || String(response.status);
      const message = (data && data.message) || (error && error.message) || "";
      const failure = new ApiError(response.status, code, message);
      if (response.status === 401 && path !== "/session") signedOut(failure.code);
      throw failure;
    }
    return data;
  }

  /** The signed-in member, their role and, for a street's staff, their street. */
  function whoText() {
    const role = t(`role.${state.session.role}`);
    return state.session.street ? t("who.street", { name: state.session.name, role, street: state.session.street })
      : t("who", { name: state.session.name, role });
  }

  /** What to tell staff about a refused request, in their language. */
  function describeError(error) {
    const known = {
      "bad-credentials": "error.badCredentials", locked: "error.locked", csrf: "error.csrf",
      "forbidden-role": "error.forbiddenRole", "session-expired": "error.sessionExpired", "signed-out": "error.signedOut",
      "already-acknowledged": "error.alreadyAcknowledged", "already-escalated": "error.alreadyEscalated", network: "error.network",
    };
    const key = known[error.code];
    if (key) return t(key);
    return t("error.other", { status: error.status, message: error.message || error.code });
  }

  // ---- Sign-in --------------------------------------------------------------------------------

  async function start() {
    await loadLanguage(pickLanguage());
    for (const select of document.querySelectorAll(".language-select")) {
      select.addEventListener("change", async () => {
        localStorage.setItem(LANGUAGE_KEY, select.value);
        await loadLanguage(select.value);
      });
    }
    $("signin-form").addEventListener("submit", signIn);
    $("signout").addEventListener("click", signOut);
    document.addEventListener("keydown", globalKeys);
    document.addEventListener("pointerdown", unlockAudio);
    document.addEventListener("keydown", unlockAudio);
    window.addEventListener("hashchange", route);
    bindPages();
    document.body.classList.remove("loading");
    try {
      state.session = await api("GET", "/session");
      await enter();
    } catch (error) {
      // Signed in when this tab last looked, and never signed out: the sign-in has expired.
      const expired = error.code === "session-expired" || sessionStorage.getItem(SIGNED_IN_KEY) === "1";
      sessionStorage.removeItem(SIGNED_IN_KEY);
      showSignIn(expired ? t("error.sessionExpired") : "");
    }
  }

  function showSignIn(message) {
    $("app").hidden = true;
    $("signin").hidden = false;
    const error = $("signin-error");
    error.hidden = !message;
    error.textContent = message || "";
    $("signin-name").focus();
    updateTitle();
  }

  async function signIn(event) {
    event.preventDefault();
    unlockAudio();
    const name = $("signin-name").value.trim();
    const password = $("signin-password").value;
    $("signin-submit").disabled = true;
    try {
      state.session = await api("POST", "/session", { name, password });
      $("signin-password").value = "";
      await enter();
    } catch (error) {
      showSignIn(describeError(error));
    } finally {
      $("signin-submit").disabled = false;
    }
  }

  async function signOut() {
    sessionStorage.removeItem(SIGNED_IN_KEY);
    try {
      await api("DELETE", "/session");
    } catch (error) {
      // Signed out already: the sign-in form is what staff should see either way.
    }
    signedOut("signed-out");
  }

  function signedOut(code) {
    if (!state.session) return;
    state.session = null;
    sessionStorage.removeItem(SIGNED_IN_KEY);
    if (state.events) state.events.close();
    state.events = null;
    state.alarms.clear();
    state.alarmsLoaded = false;
    showSignIn(code === "session-expired" ? t("error.sessionExpired") : "");
  }

  async function enter() {
    $("signin").hidden = true;
    $("app").hidden = false;
    sessionStorage.setItem(SIGNED_IN_KEY, "1");
    document.body.dataset.role = state.session.role;
    $("who").textContent = whoText();
    for (const link of document.querySelectorAll("nav a")) {
      link.hidden = !allowed(link.dataset.role || "operator");
    }
    state.config = await api("GET", "/config");
    fillPlanChoices();
    translatePage();
    await Promise.all([loadAlarms(), loadUnits()]);
    connectEvents();
    route();
  }

  function allowed(role) {
    return state.session && ROLE_RANK[state.session.role] >= ROLE_RANK[role];
  }

  // ---- Pages ----------------------------------------------------------------------------------

  function route() {
    if (!state.session) return;
    const wanted = (location.hash.match(/^#\/(\w+)/) || [])[1] || "map";
    const page = PAGES.includes(wanted) ? wanted : "map";
    for (const section of document.querySelectorAll(".page")) section.hidden = true;
    for (const link of document.querySelectorAll("nav a")) {
      if (link.dataset.page === page) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    state.page = page;
    if (!allowed(PAGE_ROLE[page])) {
      // The server refuses the page's data too; this only says so before asking.
      showRefused(t("error.forbiddenRole"));
      return;
    }
    $(`page-${page}`).hidden = false;
    if (page === "map") showLiveMap();
    if (page === "coverage") showCoverageForm();
    if (page === "tracks") showTrackForm();
    if (page === "devices") loadDevices();
  }

  function showRefused(message) {
    for (const section of document.querySelectorAll(".page")) section.hidden = true;
    $("page-refused").hidden = false;
    $("refused-text").textContent = message;
  }

  function bindPages() {
    $("unit-search").addEventListener("input", renderUnits);
    $("unit-filter").addEventListener("change", renderUnits);
    $("map-plan").addEventListener("change", () => drawPlanOnLiveMap());
    $("coverage-form").addEventListener("submit", (event) => { event.preventDefault(); loadCoverage(); });
    $("coverage-plan").addEventListener("change", () => fillShiftChoices());
    $("coverage-print").addEventListener("click", () => window.print());
    $("track-form").addEventListener("submit", (event) => { event.preventDefault(); loadTrack(); });
    $("track-slider").addEventListener("input", showTrackPoint);
    $("track-play").addEventListener("click", playTrack);
    $("device-form").addEventListener("submit", (event) => { event.preventDefault(); addDevice(); });
  }

  // ---- Maps -----------------------------------------------------------------------------------

  function datum() {
    return (state.config && state.config.tiles && state.config.tiles.datum) || "wgs84";
  }

  /** A WGS-84 position as Leaflet should draw it on the configured tiles. */
  function shifted(lat, lon) {
    return window.PatrolDatum.toTileDatum(lat, lon, datum());
  }

  function geoJSON(data, options) {
    return L.geoJSON(data, Object.assign({ coordsToLatLng: (c) => L.latLng(shifted(c[1], c[0])) }, options));
  }

  /** The map in `containerId`, made once: the configured tiles, or a plain background, and a scale bar. */
  function mapIn(containerId) {
    if (state.maps[containerId]) {
      state.maps[containerId].invalidateSize();
      return state.maps[containerId];
    }
    const map = L.map(containerId, { zoomControl: true, attributionControl: true, keyboard: true }).setView([0, 0], 2);
    const tiles = state.config && state.config.tiles;
    if (tiles && tiles.url) {
      L.tileLayer(tiles.url, { attribution: tiles.attribution || "", maxZoom: 19 }).addTo(map);
    } else {
      $(containerId).classList.add("plain");
    }
    map.attributionControl.setPrefix("");
    L.control.scale({ imperial: false }).addTo(map);
    state.maps[containerId] = map;
    return map;
  }

  async function plan(name) {
    if (!state.plans.has(name)) state.plans.set(name, await api("GET", `/plans/${encodeURIComponent(name)}`));
    return state.plans.get(name);
  }

  function fillPlanChoices() {
    const plans = (state.config && state.config.plans) || [];
    for (const id of ["map-plan", "coverage-plan"]) {
      const select = $(id);
      const previous = select.value;
      select.textContent = "";
      if (id === "map-plan") {
        const none = el("option", null, "");
        none.value = "";
        none.dataset.i18n = "units.noPlan";
        select.append(none);
      }
      for (const name of plans) {
        const option = el("option", null, name);
        option.value = name;
        select.append(option);
      }
      if (previous && plans.includes(previous)) select.value = previous;
      else if (plans.length) select.value = plans[0];
    }
  }

  // ---- Live map -------------------------------------------------------------------------------

  async function loadUnits() {
    const data = await api("GET", "/units");
    state.units.clear();
    for (const unit of data.units || []) state.units.set(unit.device, unit);
    renderUnits();
    fillTrackUnits();
  }

  function fillStateFilter() {
    const select = $("unit-filter");
    const previous = select.value;
    select.textContent = "";
    for (const value of ["", ...UNIT_STATES]) {
      const option = el("option", null, value ? t(`state.${value}`) : t("units.all"));
      option.value = value;
      select.append(option);
    }
    select.value = previous || "";
  }

  function showLiveMap() {
    const map = mapIn("live-map");
    if (!state.liveLayers) {
      state.liveLayers = { plan: L.layerGroup().addTo(map), units: L.layerGroup().addTo(map), markers: new Map() };
      drawPlanOnLiveMap().then(() => fitLiveMap());
    }
    drawUnits();
  }

  async function drawPlanOnLiveMap() {
    if (!state.liveLayers) return;
    state.liveLayers.plan.clearLayers();
    const name = $("map-plan").value;
    if (!name) return;
    try {
      const data = await plan(name);
      geoJSON(data.cells, { style: { color: "#8c959f", weight: 0.5, fillOpacity: 0.04 }, interactive: false }).addTo(state.liveLayers.plan);
      geoJSON(data.areas, { style: { color: "#0969da", weight: 2, fillOpacity: 0.06 }, interactive: false }).addTo(state.liveLayers.plan);
    } catch (error) {
      $("unit-none").hidden = false;
      $("unit-none").textContent = describeError(error);
    }
  }

  function fitLiveMap() {
    const map = state.maps["live-map"];
    const bounds = L.latLngBounds([]);
    state.liveLayers.plan.eachLayer((layer) => layer.getBounds && bounds.extend(layer.getBounds()));
    for (const unit of state.units.values()) if (unit.fix) bounds.extend(shifted(unit.fix.lat, unit.fix.lon));
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17 });
  }

  function drawUnits() {
    if (!state.liveLayers) return;
    const layers = state.liveLayers;
    layers.units.clearLayers();
    layers.markers.clear();
    for (const unit of state.units.values()) {
      if (!unit.fix) continue;
      const colour = STATE_COLOURS[unit.state] || "#6e7781";
      const tail = (unit.tail || []).map((p) => shifted(p[0], p[1]));
      if (tail.length > 1) L.polyline(tail, { color: colour, weight: 2, opacity: 0.7, interactive: false }).addTo(layers.units);
      const marker = L.circleMarker(shifted(unit.fix.lat, unit.fix.lon), {
        radius: unit.state === "alarm" ? 10 : 7, color: "#fff", weight: 2, fillColor: colour, fillOpacity: 1,
      }).addTo(layers.units);
      marker.bindTooltip(`${unit.device} · ${t(`state.${unit.state}`)}`);
      layers.markers.set(unit.device, marker);
    }
  }

  function renderUnits() {
    const list = $("unit-list");
    list.textContent = "";
    const search = $("unit-search").value.trim().toLowerCase();
    const filter = $("unit-filter").value;
    const units = [...state.units.values()]
      .filter((u) => (!filter || u.state === filter) && (!search || u.device.toLowerCase().includes(search)))
      .sort((a, b) => (b.state === "alarm") - (a.state === "alarm") || a.device.localeCompare(b.device));
    for (const unit of units) {
      const item = el("li", `unit state-${unit.state}`);
      item.dataset.device = unit.device;
      const button = el("button", "unit-button");
      button.type = "button";
      button.append(el("span", "dot"), el("span", "unit-name", unit.device), el("span", "unit-state", t(`state.${unit.state}`)));
      const seen = ms(unit.lastSeen);
      button.append(el("span", "unit-seen", seen === null ? t("units.neverSeen") : t("units.seen", { age: formatAge(Date.now() - seen) })));
      button.addEventListener("click", () => focusUnit(unit.device));
      item.append(button);
      list.append(item);
    }
    $("unit-none").hidden = units.length > 0;
    if (!units.length) $("unit-none").textContent = t("units.none");
    drawUnits();
  }

  /** Units report every few seconds each: redraw the list and the markers at most twice a second. */
  function scheduleUnitRender() {
    if (state.unitRender) return;
    state.unitRender = setTimeout(() => {
      state.unitRender = null;
      renderUnits();
    }, 500);
  }

  function focusUnit(device) {
    const unit = state.units.get(device);
    if (!unit || !unit.fix) return;
    location.hash = "#/map";
    const map = mapIn("live-map");
    map.setView(shifted(unit.fix.lat, unit.fix.lon), Math.max(map.getZoom(), 16));
    const marker = state.liveLayers && state.liveLayers.markers.get(device);
    if (marker) marker.openTooltip();
  }

  // ---- Alarm desk -----------------------------------------------------------------------------

  async function loadAlarms() {
    const data = await api("GET", "/alarms?open=true");
    // Read again after the feed was down: an alarm not seen before gets the new-alarm cue.
    const seen = state.alarmsLoaded ? new Set(state.alarms.keys()) : null;
    state.alarms.clear();
    let fresh = null;
    for (const alarm of data.alarms || []) {
      state.alarms.set(alarm.id, alarm);
      if (seen && !seen.has(alarm.id)) fresh = alarm;
    }
    state.alarmsLoaded = true;
    renderAlarms();
    if (fresh) alarmCue(fresh);
  }

  function alarmOpen(alarm) {
    return !alarm.acknowledgedAt && !alarm.acknowledgedBy;
  }

  /** "Panic" for `panic`; a variant the catalogue does not name (`panic.silent`) keeps its suffix. */
  function kindText(alarm) {
    const kind = String(alarm.kind || "");
    if (`kind.${kind}` in state.catalogue) return t(`kind.${kind}`);
    const [base, ...rest] = kind.split(".");
    return `kind.${base}` in state.catalogue ? `${t(`kind.${base}`)} (${rest.join(".")})` : kind;
  }

  /** The button that raised the alarm (the payload repeats what the row already shows). */
  function alarmDetail(alarm) {
    return alarm.button ? t("desk.button", { button: alarm.button }) : "";
  }

  function renderAlarms() {
    const list = $("alarm-list");
    const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest(".alarm");
    const focusedId = focused ? focused.dataset.alarmId : null;
    const focusedNote = focused && document.activeElement.classList.contains("ack-note");
    const noteTexts = new Map([...list.querySelectorAll(".alarm")].map((item) => [item.dataset.alarmId, item.querySelector(".ack-note").value]));
    list.textContent = "";
    const alarms = [...state.alarms.values()].filter(alarmOpen).sort((a, b) => ms(a.raisedAt) - ms(b.raisedAt));
    const now = Date.now();
    for (const alarm of alarms) {
      const item = el("li", "alarm");
      item.tabIndex = 0;
      item.dataset.alarmId = String(alarm.id);
      const raised = ms(alarm.raisedAt);
      const summary = el("div", "alarm-summary");
      summary.append(el("strong", "alarm-kind", kindText(alarm)), el("span", "alarm-unit", alarm.device));
      // District staff see every street's alarms: which street, and whether it was escalated to them.
      if (!state.session.street && alarm.street) summary.append(el("span", "alarm-street", t("desk.street", { street: alarm.street })));
      summary.append(el("span", "alarm-age", t("desk.raised", { time: formatTime(raised), age: formatAge(now - raised) })));
      const place = el("div", "alarm-place");
      if (alarm.position) {
        const link = el("a", "alarm-where", t("desk.place", { lat: alarm.position.lat.toFixed(5), lon: alarm.position.lon.toFixed(5) }));
        link.href = "#/map";
        link.addEventListener("click", (event) => { event.preventDefault(); showAlarmOnMap(alarm); });
        place.append(link);
        const fixTime = ms(alarm.position.time);
        place.append(el("span", "alarm-fix-age", fixTime === null ? t("desk.fixUnknown") : t("desk.fixAge", { age: formatAge(now - fixTime) })));
      } else {
        place.append(el("span", "alarm-fix-age", t("desk.noPosition")));
      }
      const detail = alarmDetail(alarm);
      if (detail) place.append(el("span", "alarm-detail", detail));
      const escalation = alarm.escalatedBy
        ? el("p", "alarm-escalated", t("desk.escalated", { by: alarm.escalatedBy, time: formatTime(ms(alarm.escalatedAt)), note: alarm.escalationNote || "" }))
        : null;
      if (escalation) item.classList.add("escalated");
      const form = el("form", "ack-form");
      const note = el("input", "ack-note");
      note.type = "text";
      note.maxLength = 500;
      note.setAttribute("aria-label", t("desk.note"));
      note.placeholder = t("desk.note");
      note.value = noteTexts.get(item.dataset.alarmId) || "";
      const button = el("button", "ack-button", t("desk.acknowledge"));
      button.type = "submit";
      form.append(note, button);
      // A street's staff hand an alarm to the district desk, the note saying why.
      if (state.session.street && !alarm.escalatedBy) {
        const escalate = el("button", "escalate-button", t("desk.escalate"));
        escalate.type = "button";
        escalate.addEventListener("click", () => escalateAlarm(alarm.id, note.value, item));
        form.append(escalate);
      }
      form.addEventListener("submit", (event) => { event.preventDefault(); acknowledge(alarm.id, note.value, item); });
      const error = el("p", "error ack-error");
      error.hidden = true;
      item.append(summary, place, ...(escalation ? [escalation] : []), form, error);
      item.setAttribute("aria-label", t("desk.alarmLabel", { kind: kindText(alarm), unit: alarm.device, age: formatAge(now - raised) }));
      list.append(item);
    }
    $("alarm-count").textContent = String(alarms.length);
    $("alarm-none").hidden = alarms.length > 0;
    $("alarm-desk").classList.toggle("active", alarms.length > 0);
    if (focusedId) {
      const again = list.querySelector(`.alarm[data-alarm-id="${CSS.escape(focusedId)}"]`);
      if (again) (focusedNote ? again.querySelector(".ack-note") : again).focus();
    }
    updateTitle();
  }

  function showAlarmOnMap(alarm) {
    location.hash = "#/map";
    route();
    const map = mapIn("live-map");
    const where = shifted(alarm.position.lat, alarm.position.lon);
    map.setView(where, 17);
    L.popup().setLatLng(where).setContent(`${kindText(alarm)} · ${alarm.device}`).openOn(map);
  }

  async function acknowledge(id, note, item) {
    const error = item.querySelector(".ack-error");
    try {
      const alarm = await api("POST", `/alarms/${encodeURIComponent(id)}/ack`, { note: note.trim() });
      state.alarms.set(alarm.id, alarm);
      announce(t("desk.acknowledged", { kind: kindText(alarm), unit: alarm.device }));
      const next = item.nextElementSibling || item.previousElementSibling;
      renderAlarms();
      const target = next && $("alarm-list").querySelector(`.alarm[data-alarm-id="${CSS.escape(next.dataset.alarmId)}"]`);
      if (target) target.focus();
      else $("alarm-desk-title").focus();
    } catch (failure) {
      if (failure.code === "already-acknowledged") {
        await loadAlarms();
        announce(describeError(failure));
        return;
      }
      error.hidden = false;
      error.textContent = describeError(failure);
    }
  }

  async function escalateAlarm(id, note, item) {
    const error = item.querySelector(".ack-error");
    if (!note.trim()) {
      error.hidden = false;
      error.textContent = t("desk.escalateNeedsNote");
      item.querySelector(".ack-note").focus();
      return;
    }
    try {
      const alarm = await api("POST", `/alarms/${encodeURIComponent(id)}/escalate`, { note: note.trim() });
      state.alarms.set(alarm.id, alarm);
      announce(t("desk.escalatedDone", { kind: kindText(alarm), unit: alarm.device }));
      renderAlarms();
    } catch (failure) {
      if (failure.code === "already-escalated" || failure.code === "already-acknowledged") await loadAlarms();
      error.hidden = false;
      error.textContent = describeError(failure);
    }
  }

  /** Keyboard: Alt+A jumps to the oldest open alarm; on an alarm, ↑/↓ move, Enter or A opens the
   *  note (Enter there acknowledges), Escape goes back to the alarm. */
  function globalKeys(event) {
    if (!state.session) return;
    const alarm = event.target.closest && event.target.closest(".alarm");
    if (event.altKey && !event.ctrlKey && (event.key === "a" || event.key === "A" || event.code === "KeyA")) {
      event.preventDefault();
      const first = $("alarm-list").querySelector(".alarm");
      if (first) first.focus();
      else $("alarm-desk-title").focus();
      return;
    }
    if (!alarm) return;
    if (event.target === alarm) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const next = event.key === "ArrowDown" ? alarm.nextElementSibling : alarm.previousElementSibling;
        if (next) next.focus();
      } else if (event.key === "Enter" || event.key === "a" || event.key === "A") {
        event.preventDefault();
        alarm.querySelector(".ack-note").focus();
      }
    } else if (event.key === "Escape") {
      event.preventDefault();
      alarm.focus();
    }
  }

  function announce(text) {
    $("announcer").textContent = "";
    setTimeout(() => { $("announcer").textContent = text; }, 50);
  }

  function unlockAudio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (!state.audio) state.audio = new Context();
    if (state.audio.state === "suspended") state.audio.resume();
  }

  /** A new alarm: three short beeps (made with WebAudio, no sound file), a flashing title and a
   *  spoken announcement for screen readers. */
  function alarmCue(alarm) {
    document.body.dataset.alarmCues = String(Number(document.body.dataset.alarmCues || 0) + 1);
    if (alarm) announce(t("desk.newAlarm", { kind: kindText(alarm), unit: alarm.device }));
    if (state.audio) {
      const context = state.audio;
      const start = context.currentTime + 0.02;
      for (let beep = 0; beep < 3; beep++) {
        const oscillator = context.createOscillator();
        const gain = context.createGain();
        oscillator.type = "square";
        oscillator.frequency.value = 880;
        gain.gain.setValueAtTime(0.0001, start + beep * 0.3);
        gain.gain.exponentialRampToValueAtTime(0.2, start + beep * 0.3 + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + beep * 0.3 + 0.18);
        oscillator.connect(gain).connect(context.destination);
        oscillator.start(start + beep * 0.3);
        oscillator.stop(start + beep * 0.3 + 0.2);
      }
    }
    clearInterval(state.titleFlash);
    let flashes = 0;
    state.titleFlash = setInterval(() => {
      flashes += 1;
      document.title = flashes % 2 ? t("title.newAlarm") : titleText();
      if (flashes >= 20) {
        clearInterval(state.titleFlash);
        state.titleFlash = null;
        updateTitle();
      }
    }, 700);
  }

  function titleText() {
    const open = [...state.alarms.values()].filter(alarmOpen).length;
    return open && state.session ? t("title.withAlarms", { n: open }) : t("title.plain");
  }

  function updateTitle() {
    if (!state.titleFlash) document.title = titleText();
  }

  // ---- Live feed (Server-Sent Events) ----------------------------------------------------------

  function connectEvents() {
    if (state.events) state.events.close();
    const source = new EventSource(`${API}/events`, { withCredentials: true });
    state.events = source;
    source.addEventListener("open", () => {
      const reconnected = state.feed === "lost";
      state.feed = "live";
      state.reconnectDelay = 1000;
      updateFeedState();
      // What happened while the feed was down: read it again.
      if (reconnected) Promise.all([loadAlarms(), loadUnits()]).catch(() => {});
    });
    source.addEventListener("alarm", (event) => {
      const alarm = JSON.parse(event.data);
      const isNew = !state.alarms.has(alarm.id);
      state.alarms.set(alarm.id, alarm);
      renderAlarms();
      if (isNew && alarmOpen(alarm)) alarmCue(alarm);
    });
    for (const name of ["alarm-ack", "alarm-escalated"]) {
      source.addEventListener(name, (event) => {
        const alarm = JSON.parse(event.data);
        state.alarms.set(alarm.id, alarm);
        renderAlarms();
      });
    }
    source.addEventListener("unit", (event) => {
      const unit = JSON.parse(event.data);
      state.units.set(unit.device, unit);
      scheduleUnitRender();
    });
    source.addEventListener("error", () => {
      state.feed = "lost";
      updateFeedState();
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. the session ended): check the session, then try again later.
        const delay = state.reconnectDelay;
        state.reconnectDelay = Math.min(state.reconnectDelay * 2, 30000);
        setTimeout(async () => {
          if (state.events !== source || !state.session) return;
          try {
            await api("GET", "/session");
            connectEvents();
          } catch (error) {
            if (state.session) setTimeout(connectEvents, delay);
          }
        }, delay);
      }
    });
  }

  function updateFeedState() {
    const node = $("feed-state");
    node.textContent = state.feed === "live" ? t("feed.live") : state.feed === "lost" ? t("feed.lost") : "";
    node.className = `feed-state ${state.feed || ""}`;
  }

  // ---- Coverage review ------------------------------------------------------------------------

  function showCoverageForm() {
    if (!$("coverage-date").value) $("coverage-date").value = localInputValue(Date.now()).slice(0, 10);
    fillShiftChoices();
  }

  /** "HH:MM" → minutes after midnight. */
  function minutesOf(clock) {
    const [hours, minutes] = String(clock).split(":").map(Number);
    return hours * 60 + minutes;
  }

  /** Minutes after midnight → "HH:MM". */
  function clockOf(minutes) {
    return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
  }

  /** Every distinct shift of the plan's units as {start, end} ("HH:MM", local to the plan's zone). */
  function shiftsOf(data) {
    const spans = new Map();
    for (const unit of data.units || []) {
      for (const shift of unit.shifts || []) {
        const start = clockOf(shift.startMinute), end = clockOf(shift.endMinute);
        spans.set(`${start}-${end}`, { start, end });
      }
    }
    return [...spans.values()].sort((a, b) => minutesOf(a.start) - minutesOf(b.start));
  }

  async function fillShiftChoices() {
    const name = $("coverage-plan").value;
    if (!name || !state.session || !allowed("supervisor")) return;
    let data;
    try {
      data = await plan(name);
    } catch (error) {
      $("coverage-status").textContent = describeError(error);
      return;
    }
    const shiftSelect = $("coverage-shift");
    const previousShift = shiftSelect.value;
    shiftSelect.textContent = "";
    for (const shift of shiftsOf(data)) {
      const option = el("option", null, t("coverage.shiftSpan", shift));
      option.value = `${shift.start}-${shift.end}`;
      shiftSelect.append(option);
    }
    const whole = el("option", null, t("coverage.wholeDay"));
    whole.value = "00:00-00:00";
    shiftSelect.append(whole);
    if ([...shiftSelect.options].some((o) => o.value === previousShift)) shiftSelect.value = previousShift;
    const unitSelect = $("coverage-unit");
    const previousUnit = unitSelect.value;
    unitSelect.textContent = "";
    const all = el("option", null, t("coverage.allUnits"));
    all.value = "";
    unitSelect.append(all);
    for (const unit of data.units || []) {
      const option = el("option", null, unit.name ? `${unit.device} (${unit.name})` : unit.device);
      option.value = unit.device;
      unitSelect.append(option);
    }
    if ([...unitSelect.options].some((o) => o.value === previousUnit)) unitSelect.value = previousUnit;
  }

  /** The query of the picked plan, date, shift and unit: from/to computed in the plan's zone. */
  async function coverageQuery(format) {
    const name = $("coverage-plan").value;
    const data = await plan(name);
    const timeZone = data.timeZone || zone();
    const [start, end] = $("coverage-shift").value.split("-");
    const date = $("coverage-date").value;
    const from = zonedToUTC(date, minutesOf(start), timeZone);
    let to = zonedToUTC(date, minutesOf(end), timeZone);
    if (to <= from) {
      const next = new Date(Date.parse(`${date}T00:00:00Z`) + 86400000).toISOString().slice(0, 10);
      to = zonedToUTC(next, minutesOf(end), timeZone);
    }
    const query = new URLSearchParams({ plan: name, from: new Date(from).toISOString(), to: new Date(to).toISOString() });
    if ($("coverage-unit").value) query.set("unit", $("coverage-unit").value);
    query.set("format", format);
    return query.toString();
  }

  async function loadCoverage() {
    const status = $("coverage-status");
    status.textContent = t("status.loading");
    try {
      const query = await coverageQuery("json");
      const report = await api("GET", `/coverage?${query}`);
      state.coverage = { report, plan: await plan($("coverage-plan").value) };
      $("coverage-csv").href = `${API}/coverage?${await coverageQuery("csv")}`;
      $("coverage-csv").setAttribute("download", `coverage-${$("coverage-date").value}.csv`);
      $("coverage-csv").hidden = false;
      $("coverage-print").hidden = false;
      status.textContent = "";
      renderCoverage();
    } catch (error) {
      status.textContent = describeError(error);
      $("coverage-result").hidden = true;
    }
  }

  function cellId(feature) {
    return feature.properties.cell;
  }

  function table(headings, rows, className) {
    const node = el("table", `grid ${className || ""}`);
    const head = el("tr");
    for (const heading of headings) head.append(el("th", null, heading));
    node.append(el("thead"));
    node.tHead.append(head);
    const body = el("tbody");
    for (const row of rows) {
      const tr = el("tr");
      for (const cell of row) {
        const td = el("td");
        if (cell instanceof Node) td.append(cell);
        else td.textContent = cell === null || cell === undefined ? "" : String(cell);
        tr.append(td);
      }
      body.append(tr);
    }
    node.append(body);
    return node;
  }

  function proofText(evidence, timeZone) {
    if (!evidence) return "";
    const time = formatTime(evidence.time, false, timeZone);
    switch (evidence.kind) {
      case "tag": return t("proof.tag", { tag: evidence.tag, time, input: evidence.input || "" });
      case "button": return t("proof.button", { time, input: evidence.input || "" });
      case "geofence-check-in": return t("proof.geofence", { time });
      case "dwell": return t("proof.dwell", { entered: formatTime(evidence.entered, false, timeZone), time, left: evidence.left ? formatTime(evidence.left, false, timeZone) : t("proof.stillThere") });
      default: return `${evidence.kind} ${time}`;
    }
  }

  function renderCoverage() {
    const { report, plan: planData } = state.coverage;
    // Shifts and windows are local to the plan: its report is shown in the plan's zone, which the heading names.
    const planZone = report.time_zone;
    const time = (value, withDate) => formatTime(value, withDate, planZone);
    $("coverage-result").hidden = false;
    $("coverage-heading").textContent = t("coverage.heading", {
      plan: report.plan, from: time(report.from, true), to: time(report.to, true), zone: planZone,
    });
    const shifts = report.shifts || [];
    // Cells: assigned = the cells of the shifts' areas; missed = listed uncovered; covered = the rest.
    const assigned = new Map(); // cell id -> covered?
    const cellAreas = new Map();
    for (const feature of (planData.cells && planData.cells.features) || []) {
      cellAreas.set(cellId(feature), (feature.properties && feature.properties.areas) || []);
    }
    for (const shift of shifts) {
      const uncovered = new Set(shift.uncovered_cells || []);
      const areas = new Set(shift.areas || []);
      for (const [id, cellArea] of cellAreas) {
        if (!cellArea.some((a) => areas.has(a))) continue;
        const covered = !uncovered.has(id);
        assigned.set(id, assigned.get(id) || covered);
      }
    }
    const result = $("coverage-result");
    result.dataset.coveredCells = [...assigned].filter(([, c]) => c).map(([id]) => id).sort().join(" ");
    result.dataset.missedCells = [...assigned].filter(([, c]) => !c).map(([id]) => id).sort().join(" ");
    const map = mapIn("coverage-map");
    if (state.coverageLayer) state.coverageLayer.remove();
    state.coverageLayer = L.layerGroup().addTo(map);
    const cells = { type: "FeatureCollection", features: ((planData.cells && planData.cells.features) || []).filter((f) => assigned.has(cellId(f))) };
    const cellLayer = geoJSON(cells, {
      style: (f) => (assigned.get(cellId(f)) ? { className: "coverage-cell covered", color: "#1a7f37", weight: 0.5, fillColor: "#2da44e", fillOpacity: 0.45 }
        : { className: "coverage-cell missed", color: "#cf222e", weight: 0.5, fillColor: "#fa4549", fillOpacity: 0.35 }),
      onEachFeature: (f, layer) => layer.bindTooltip(`${cellId(f)} · ${assigned.get(cellId(f)) ? t("coverage.covered") : t("coverage.missed")}`),
    }).addTo(state.coverageLayer);
    geoJSON(planData.areas, { style: { color: "#0969da", weight: 2, fill: false }, interactive: false }).addTo(state.coverageLayer);
    for (const checkpoint of planData.checkpoints || []) {
      L.circleMarker(shifted(checkpoint.lat, checkpoint.lon), { radius: 6, color: "#24292f", weight: 2, fillColor: "#fff", fillOpacity: 1 })
        .bindTooltip(checkpoint.id || "").addTo(state.coverageLayer);
    }
    if (cellLayer.getLayers().length) map.fitBounds(cellLayer.getBounds(), { padding: [10, 10] });

    const container = $("coverage-shifts");
    container.textContent = "";
    if (!shifts.length) container.append(el("p", "quiet", t("coverage.noShifts")));
    for (const shift of shifts) {
      const section = el("section", "shift-report");
      section.dataset.device = shift.device;
      section.append(el("h3", null, t("coverage.shiftHeading", {
        device: shift.unit_name ? `${shift.device} (${shift.unit_name})` : shift.device,
        from: time(shift.start, true), to: time(shift.end),
      })));
      section.append(table([t("coverage.figure"), t("coverage.value")], [
        [t("coverage.cells"), t("coverage.cellsValue", { covered: shift.covered_cells, assigned: shift.assigned_cells, percent: shift.covered_percent })],
        [t("coverage.distance"), t("coverage.km", { km: (shift.distance_m / 1000).toFixed(2) })],
        [t("coverage.silent"), formatAge(shift.device_silent_s * 1000)],
        [t("coverage.noFix"), formatAge(shift.no_fix_s * 1000)],
        [t("coverage.stationary"), formatAge(shift.stationary_s * 1000)],
        [t("coverage.topSpeed"), t("coverage.kmh", { kmh: (shift.top_speed_mps * 3.6).toFixed(1) })],
        [t("coverage.fixes"), t("coverage.fixesValue", { fixes: shift.fixes, poor: shift.poor_fixes })],
      ], "figures"));
      if ((shift.area_coverage || []).length) {
        section.append(el("h4", null, t("coverage.areas")));
        section.append(table([t("coverage.area"), t("coverage.cells"), t("coverage.missedCells")], shift.area_coverage.map((a) => [
          a.area, t("coverage.cellsValue", { covered: a.covered_cells, assigned: a.assigned_cells, percent: a.covered_percent }),
          (a.uncovered_cells || []).join(" "),
        ]), "areas"));
      }
      section.append(el("h4", null, t("coverage.checkpoints")));
      const visits = shift.checkpoints || [];
      if (visits.length) {
        section.append(table([t("coverage.checkpoint"), t("coverage.window"), t("coverage.result"), t("coverage.proof")], visits.map((v) => {
          const badge = el("span", `visit ${v.status}`, t(`visit.${v.status}`));
          badge.dataset.status = v.status;
          let proof = proofText(v.evidence, planZone);
          if (!v.evidence && v.closest_approach_m !== undefined) {
            proof = t("proof.closest", { m: v.closest_approach_m, time: time(v.closest_approach_time) });
          }
          return [v.id, t("coverage.windowSpan", { from: time(v.window_start), to: time(v.window_end) }), badge, proof];
        }), "checkpoints"));
      } else {
        section.append(el("p", "quiet", t("coverage.noCheckpoints")));
      }
      section.append(el("h4", null, t("coverage.gaps")));
      const gaps = shift.gaps || [];
      if (gaps.length) {
        section.append(table([t("coverage.gapKind"), t("coverage.gapFrom"), t("coverage.gapTo"), t("coverage.gapLength")], gaps.map((g) => [
          t(`gap.${g.kind}`), time(g.start), time(g.end), formatAge(g.seconds * 1000),
        ]), "gaps"));
      } else {
        section.append(el("p", "quiet", t("coverage.noGaps")));
      }
      container.append(section);
    }
  }

  // ---- Track playback -------------------------------------------------------------------------

  function fillTrackUnits() {
    const select = $("track-unit");
    const previous = select.value;
    select.textContent = "";
    for (const device of [...state.units.keys()].sort()) {
      const option = el("option", null, device);
      option.value = device;
      select.append(option);
    }
    if (previous && state.units.has(previous)) select.value = previous;
  }

  function showTrackForm() {
    mapIn("track-map");
    if (!$("track-from").value) {
      const now = Date.now();
      $("track-from").value = localInputValue(now - 2 * 3600000);
      $("track-to").value = localInputValue(now);
    }
  }

  async function loadTrack() {
    const device = $("track-unit").value;
    const status = $("track-status");
    if (!device) return;
    const from = new Date(fromLocalInput($("track-from").value)).toISOString();
    const to = new Date(fromLocalInput($("track-to").value)).toISOString();
    const base = `${API}/tracks/${encodeURIComponent(device)}?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    status.textContent = t("status.loading");
    try {
      const data = await api("GET", `/tracks/${encodeURIComponent(device)}?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&format=json`);
      const points = data.points || [];
      state.track = { device, points };
      for (const [id, format] of [["track-gpx", "gpx"], ["track-geojson", "geojson"]]) {
        const link = $(id);
        link.href = `${base}&format=${format}`;
        link.setAttribute("download", `${device}.${format === "gpx" ? "gpx" : "geojson"}`);
        link.hidden = false;
      }
      const map = mapIn("track-map");
      if (state.trackLayer) state.trackLayer.remove();
      state.trackLayer = L.layerGroup().addTo(map);
      status.textContent = points.length ? t("tracks.count", { n: points.length }) : t("tracks.none");
      const slider = $("track-slider");
      slider.max = String(Math.max(0, points.length - 1));
      slider.value = "0";
      slider.disabled = points.length === 0;
      $("track-play").disabled = points.length === 0;
      if (!points.length) {
        $("track-time").textContent = "";
        return;
      }
      const line = L.polyline(points.map((p) => shifted(p[0], p[1])), { color: "#8250df", weight: 3 }).addTo(state.trackLayer);
      state.track.marker = L.circleMarker(shifted(points[0][0], points[0][1]), { className: "track-marker", radius: 8, color: "#fff", weight: 2, fillColor: "#8250df", fillOpacity: 1 })
        .addTo(state.trackLayer);
      map.fitBounds(line.getBounds(), { padding: [20, 20], maxZoom: 17 });
      showTrackPoint();
    } catch (error) {
      status.textContent = describeError(error);
    }
  }

  function showTrackPoint() {
    if (!state.track || !state.track.points.length) return;
    const point = state.track.points[Number($("track-slider").value)];
    if (!point) return;
    if (state.track.marker) state.track.marker.setLatLng(shifted(point[0], point[1]));
    // Speed in m/s, -1 where the receiver reported none.
    const speed = typeof point[3] === "number" && point[3] >= 0 ? t("coverage.kmh", { kmh: (point[3] * 3.6).toFixed(1) }) : "";
    $("track-time").textContent = `${formatTime(point[2], true)} ${speed}`;
  }

  function playTrack() {
    const slider = $("track-slider");
    if (state.trackTimer) {
      clearInterval(state.trackTimer);
      state.trackTimer = null;
      $("track-play").textContent = t("tracks.play");
      return;
    }
    if (Number(slider.value) >= Number(slider.max)) slider.value = "0";
    $("track-play").textContent = t("tracks.pause");
    const step = Math.max(1, Math.round(Number(slider.max) / 300));
    state.trackTimer = setInterval(() => {
      slider.value = String(Math.min(Number(slider.max), Number(slider.value) + step));
      showTrackPoint();
      if (Number(slider.value) >= Number(slider.max)) playTrack();
    }, 50);
  }

  // ---- Devices --------------------------------------------------------------------------------

  async function loadDevices() {
    const status = $("device-status");
    const body = $("device-table").tBodies[0];
    try {
      const data = await api("GET", "/devices");
      body.textContent = "";
      for (const device of data.devices || []) {
        const row = el("tr");
        row.dataset.device = device.id;
        const seen = ms(device.lastSeenMs !== undefined ? device.lastSeenMs : device.lastSeen);
        const stateText = device.revokedMs ? t("devices.revoked") : device.silent ? t("state.silent") : t("devices.active");
        const versions = [device.firmwareVersion, device.configVersion].filter(Boolean).join(" / ");
        const cells = [
          device.id, seen === null ? t("units.neverSeen") : `${formatTime(seen, true)} (${t("devices.ago", { age: formatAge(Date.now() - seen) })})`,
          stateText, device.backlog === undefined || device.backlog === null ? "" : String(device.backlog), versions,
          formatTime(device.registeredMs, true),
        ];
        for (const text of cells) row.append(el("td", null, text));
        const action = el("td");
        if (!device.revokedMs) {
          const revoke = el("button", "danger", t("devices.revoke"));
          revoke.type = "button";
          revoke.addEventListener("click", () => revokeDevice(device.id));
          action.append(revoke);
        }
        row.append(action);
        body.append(row);
      }
      status.textContent = "";
    } catch (error) {
      body.textContent = "";
      if (error.code === "forbidden-role") showRefused(describeError(error));
      else status.textContent = describeError(error);
    }
  }

  async function addDevice() {
    const name = $("device-name").value.trim();
    const status = $("device-status");
    try {
      const added = await api("POST", "/devices", { name });
      $("device-key-value").textContent = added.key;
      $("device-key").hidden = false;
      $("device-name").value = "";
      status.textContent = t("devices.added", { name: added.name });
      await loadDevices();
    } catch (error) {
      status.textContent = describeError(error);
    }
  }

  async function revokeDevice(name) {
    if (!window.confirm(t("devices.confirmRevoke", { name }))) return;
    try {
      await api("POST", `/devices/${encodeURIComponent(name)}/revoke`);
      $("device-status").textContent = t("devices.revokedName", { name });
      await loadDevices();
    } catch (error) {
      $("device-status").textContent = describeError(error);
    }
  }

  // Ages on the desk and in the unit list move on by themselves.
  setInterval(() => {
    if (!state.session) return;
    renderAlarms();
    if (state.page === "map") renderUnits();
  }, 15000);

  document.addEventListener("DOMContentLoaded", start);
})();
