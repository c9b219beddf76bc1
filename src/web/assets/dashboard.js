// The dashboard: asks for the admin token, then reads GET /v1/admin/stats with it (Bearer) and
// draws the numbers, three SVG charts and the breakdown tables. The token is kept in this
// module's memory only (not in storage): reloading the page asks for it again.
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

let token;
let loading = 0;
/** The statistics on screen, redrawn at the new width when the window is resized. */
let shown;

/** Names for people, in the page's words (the API speaks in ids). */
const PURPOSE_LABELS = {
  signup: "Sign-up",
  login: "Log-in",
  password_reset: "Password reset",
  profile_change: "Profile change",
  transaction: "Payment",
  appointment: "Appointment",
};
const OUTCOME_LABELS = {
  verified: "Verified",
  wrong_code: "Wrong code",
  expired: "Too late (expired)",
  no_pending_challenge: "No pending challenge",
  unknown_number: "Unknown number",
  invalid_sender: "Sender cannot send SMS",
  duplicate: "Duplicate delivery",
};

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svgEl(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

const integer = new Intl.NumberFormat("en");

function duration(ms) {
  if (ms === null || ms === undefined) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

const bucketName = (seconds) => (seconds >= 86_400 ? "a day" : seconds >= 3600 ? "an hour" : `${seconds / 60} minutes`);

const percent = (part, whole) => (whole > 0 ? `${Math.round((part / whole) * 1000) / 10} %` : "–");

/** An SVG chart with an accessible name (its <title>) and a text summary (its <desc>). */
function chartSvg(width, height, title, description) {
  const id = `c${Math.random().toString(36).slice(2, 9)}`;
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": `${id}-t ${id}-d` });
  svg.append(svgEl("title", { id: `${id}-t` }, title), svgEl("desc", { id: `${id}-d` }, description));
  return svg;
}

/**
 * The width to draw a chart at: its container's, in CSS pixels, so that one SVG unit is one pixel
 * and the text keeps the size the style sheet gives it on a phone as on a desktop.
 */
const chartWidth = (container) => Math.max(260, Math.floor(container.clientWidth || 420));

/** Horizontal bars: one row per item, its label on a line of its own above the bar, the value after it. */
function barChart(title, items, width) {
  const row = 44;
  const valueWidth = 64;
  const height = Math.max(1, items.length) * row + 4;
  const max = Math.max(1, ...items.map((i) => i.value));
  const svg = chartSvg(width, height, title, items.map((i) => `${i.label}: ${i.value}`).join(", ") || "no data");
  if (items.length === 0) {
    svg.append(svgEl("text", { x: 0, y: 20 }, "No data in this period"));
    return svg;
  }
  items.forEach((item, index) => {
    const y = index * row;
    const barWidth = ((width - valueWidth) * item.value) / max;
    const g = svgEl("g", { "data-label": item.label, "data-value": item.value });
    g.append(
      svgEl("text", { x: 0, y: y + 15, class: "bar-label" }, item.label),
      svgEl("rect", { x: 0, y: y + 21, width: Math.max(item.value > 0 ? 2 : 0, barWidth), height: 16, rx: 3, class: item.cls }),
      svgEl("text", { x: barWidth + 6, y: y + 34, class: "bar-value" }, integer.format(item.value)),
    );
    svg.append(g);
  });
  return svg;
}

/** Vertical bars per time bucket: created and verified side by side. */
function seriesChart(series, width) {
  const height = 240;
  const left = 44;
  const right = 24;
  const bottom = 28;
  const top = 10;
  const buckets = series.buckets;
  const max = Math.max(1, ...buckets.map((b) => Math.max(b.created, b.verified)));
  const plotHeight = height - top - bottom;
  const slot = (width - left - right) / Math.max(1, buckets.length);
  const bar = Math.max(1, slot / 2 - 1);
  const totalCreated = buckets.reduce((s, b) => s + b.created, 0);
  const totalVerified = buckets.reduce((s, b) => s + b.verified, 0);
  const svg = chartSvg(
    width,
    height,
    "Challenges created and verified over time",
    `${buckets.length} buckets of ${series.bucketSeconds / 60} minutes; ${totalCreated} created, ${totalVerified} verified`,
  );
  svg.append(
    svgEl("line", { x1: left, y1: top + plotHeight, x2: width - right, y2: top + plotHeight, class: "axis" }),
    svgEl("line", { x1: left, y1: top, x2: left, y2: top + plotHeight, class: "axis" }),
    svgEl("text", { x: left - 6, y: top + 10, "text-anchor": "end" }, String(max)),
    svgEl("text", { x: left - 6, y: top + plotHeight, "text-anchor": "end" }, "0"),
  );
  // One time label per ~90 pixels, so that they never run into each other.
  const labelEvery = Math.max(1, Math.ceil(buckets.length / Math.max(2, Math.floor((width - left - right) / 90))));
  const short = series.bucketSeconds >= 86_400 ? { month: "short", day: "numeric", timeZone: "UTC" } : { hour: "2-digit", minute: "2-digit", timeZone: "UTC", hourCycle: "h23" };
  buckets.forEach((b, i) => {
    const x = left + i * slot;
    for (const [kind, offset] of [["created", 0], ["verified", bar + 1]]) {
      const h = (plotHeight * b[kind]) / max;
      if (h > 0) svg.append(svgEl("rect", { x: x + offset, y: top + plotHeight - h, width: bar, height: h, class: `bar-${kind}` }));
    }
    if (i % labelEvery === 0 && x + 50 <= width) {
      svg.append(svgEl("text", { x, y: height - 6 }, new Date(b.start).toLocaleString("en-GB", short)));
    }
  });
  return svg;
}

/**
 * A breakdown table in a region that scrolls sideways on a narrow screen: focusable (so the
 * keyboard can scroll it too) and named, with a visible hint while columns are out of sight.
 */
function table(caption, rows) {
  const t = el("table");
  t.append(el("caption", {}, caption));
  const head = el("tr");
  for (const [label, num] of [["", false], ["Created", true], ["Got an SMS", true], ["Verified", true], ["Conversion", true], ["p50", true], ["p90", true]]) {
    const name = caption.replace(/^By /, "");
    head.append(el("th", { scope: "col", class: num ? "num" : "" }, label || name[0].toUpperCase() + name.slice(1)));
  }
  t.append(el("thead"));
  t.tHead.append(head);
  const body = el("tbody");
  if (rows.length === 0) {
    const tr = el("tr");
    tr.append(el("td", { colspan: "7", class: "empty" }, "No challenges in this period"));
    body.append(tr);
  }
  for (const r of rows) {
    const tr = el("tr");
    tr.append(el("th", { scope: "row" }, r.label || "unknown"));
    for (const v of [integer.format(r.created), integer.format(r.smsReceived), integer.format(r.verified), percent(r.verified, r.created), duration(r.timeToVerify.p50Ms), duration(r.timeToVerify.p90Ms)]) {
      tr.append(el("td", { class: "num" }, v));
    }
    body.append(tr);
  }
  t.append(body);
  const wrap = el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption });
  wrap.append(t);
  const hint = el("p", { class: "scroll-hint", hidden: "" }, "Scroll sideways for more columns →");
  const box = el("div", { class: "breakdown" });
  box.append(hint, wrap);
  return box;
}

/** Shows each table's scroll hint while its columns do not all fit. */
function updateScrollHints() {
  for (const box of document.querySelectorAll(".breakdown")) {
    const wrap = box.querySelector(".table-wrap");
    box.querySelector(".scroll-hint").hidden = wrap.scrollWidth <= wrap.clientWidth + 1;
  }
}

function drawCharts(stats) {
  const f = stats.funnel;
  const funnel = $("funnel-chart");
  funnel.replaceChildren(
    barChart(
      "Funnel: challenges created, that got an SMS, verified",
      [
        { label: "Created", value: f.created, cls: "bar-created" },
        { label: "Got an SMS", value: f.smsReceived, cls: "bar-received" },
        { label: "Verified", value: f.verified, cls: "bar-verified" },
      ],
      chartWidth(funnel),
    ),
  );
  const outcomes = $("outcomes-chart");
  outcomes.replaceChildren(
    barChart(
      "Inbound SMS by outcome",
      stats.outcomes.map((o) => ({ label: OUTCOME_LABELS[o.outcome] ?? o.outcome, value: o.count, cls: o.outcome === "verified" ? "bar-outcome-verified" : "bar-outcome" })),
      chartWidth(outcomes),
    ),
  );
  const series = $("series-chart");
  series.replaceChildren(seriesChart(stats.series, chartWidth(series)));
  updateScrollHints();
}

let resizeTimer;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => shown && drawCharts(shown), 150);
});

function fillSelect(select, values, allLabel) {
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "" }, allLabel));
  for (const { value, label } of values) select.append(el("option", { value }, label));
  select.value = values.some((v) => v.value === chosen) ? chosen : "";
}

function render(stats) {
  const f = stats.funnel;
  $("n-created").textContent = integer.format(f.created);
  $("n-received").textContent = integer.format(f.smsReceived);
  $("n-conversion").textContent = percent(f.verified, f.created);
  $("n-inbound").textContent = integer.format(stats.inboundSms);
  for (const [status, count] of Object.entries(stats.statuses)) {
    const dd = $(`s-${status}`);
    if (dd) dd.textContent = integer.format(count);
  }
  $("outcomes-total").textContent = `(${integer.format(stats.inboundSms)} SMS)`;
  $("n-p50").textContent = duration(stats.timeToVerify.p50Ms);
  $("n-p90").textContent = duration(stats.timeToVerify.p90Ms);
  $("n-p99").textContent = duration(stats.timeToVerify.p99Ms);
  const when = (iso) => new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });
  $("period-label").textContent = `${when(stats.from)} to ${when(stats.to)} UTC, in buckets of ${bucketName(stats.series.bucketSeconds)}.`;

  renderUnowned(stats.unowned);
  renderChannels(stats.channels, stats.delivery);
  $("breakdowns").replaceChildren(
    table("By app", stats.breakdown.app),
    table("By provider", stats.breakdown.provider),
    table("By country", stats.breakdown.country),
    table("By purpose", stats.breakdown.purpose.map((r) => ({ ...r, label: PURPOSE_LABELS[r.key] ?? r.label }))),
  );
  shown = stats;
  drawCharts(stats);
  fillSelect($("app"), stats.dimensions.apps.map((a) => ({ value: a.id, label: a.name })), "All apps");
  fillSelect($("provider"), stats.dimensions.providers.map((p) => ({ value: p, label: p })), "All providers");
}

/** Challenges per channel (created → verified) and the sent codes' delivery by provider. */
function renderChannels(channels, delivery) {
  for (const [channel, c] of Object.entries(channels)) {
    const dd = $(`c-${channel}`);
    if (dd) dd.textContent = `${integer.format(c.created)} → ${integer.format(c.verified)} verified`;
  }
  $("d-total").textContent = integer.format(delivery.total);
  $("d-rate").textContent = delivery.deliveryRate === null ? "–" : `${Math.round(delivery.deliveryRate * 1000) / 10} %`;
  const t = el("table");
  const head = el("tr");
  for (const name of ["Provider", "Sent", "Delivered", "Failed", "Undeliverable", "Waiting", "Delivery rate", "Delay p50", "Delay p90"]) {
    head.append(el("th", { scope: "col", class: name === "Provider" ? "" : "num" }, name));
  }
  t.append(el("thead"));
  t.tHead.append(head);
  const body = el("tbody");
  if (delivery.byProvider.length === 0) {
    const tr = el("tr");
    tr.append(el("td", { colspan: "9", class: "empty" }, "No codes sent in this period"));
    body.append(tr);
  }
  for (const r of delivery.byProvider) {
    const tr = el("tr");
    tr.append(el("th", { scope: "row" }, r.provider));
    const rate = r.deliveryRate === null ? "–" : `${Math.round(r.deliveryRate * 1000) / 10} %`;
    for (const v of [integer.format(r.total), integer.format(r.delivered), integer.format(r.failed), integer.format(r.undeliverable), integer.format(r.queued + r.sent), rate, duration(r.delay.p50Ms), duration(r.delay.p90Ms)]) {
      tr.append(el("td", { class: "num" }, v));
    }
    body.append(tr);
  }
  t.append(body);
  const wrap = el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Delivery by provider" });
  wrap.append(t);
  $("deliveries").replaceChildren(wrap);
}

/** The misconfiguration panel: deliveries for numbers no app owns in the last hour. */
function renderUnowned(unowned) {
  const node = $("unowned");
  node.className = unowned.count > 0 ? "message message-error" : "";
  if (unowned.count === 0 || !unowned.last) {
    node.textContent = "None in the last hour.";
    return;
  }
  const at = new Date(unowned.last.at).toLocaleTimeString("en-GB", { timeStyle: "short", timeZone: "UTC" });
  node.textContent =
    `Deliveries for numbers no app owns: ${integer.format(unowned.count)} in the last hour, ` +
    `last from ${unowned.last.sender ?? "an unreadable sender"} for ${unowned.last.number} (${unowned.last.provider}, ${at} UTC).`;
}

function query() {
  const params = new URLSearchParams();
  const period = $("period").value;
  if (period === "custom") {
    if ($("from").value) params.set("from", new Date(`${$("from").value}Z`).toISOString());
    if ($("to").value) params.set("to", new Date(`${$("to").value}Z`).toISOString());
  } else {
    const to = new Date();
    params.set("from", new Date(to.getTime() - Number(period) * 1000).toISOString());
    params.set("to", to.toISOString());
  }
  for (const name of ["app", "provider", "country", "purpose"]) {
    const value = $(name).value.trim();
    if (value) params.set(name, value);
  }
  return params;
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function fetchStats() {
  let response;
  try {
    response = await fetch(`/v1/admin/stats?${query()}`, { headers: { Authorization: `Bearer ${token}`, Accept: "application/json" }, cache: "no-store" });
  } catch {
    throw new HttpError(0, "The server could not be reached.");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const fields = Array.isArray(data.errors) ? data.errors.map((e) => ` ${e.field}: ${e.message}`).join(";") : "";
    throw new HttpError(response.status, `${data.detail || data.title || `HTTP ${response.status}`}${fields}`);
  }
  return data;
}

async function load() {
  const mine = ++loading;
  $("stats-error").hidden = true;
  document.body.setAttribute("aria-busy", "true");
  try {
    const stats = await fetchStats();
    if (mine !== loading) return;
    render(stats);
    document.body.dataset.loaded = String(mine);
  } catch (error) {
    if (error.status === 401) {
      signOut("This token is not valid.");
      return;
    }
    $("stats-error").textContent = error.message;
    $("stats-error").hidden = false;
  } finally {
    if (mine === loading) document.body.removeAttribute("aria-busy");
  }
}

function signOut(message) {
  token = undefined;
  $("dashboard").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("login-error").hidden = false;
  $("token").focus();
}

$("token-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  token = $("token").value.trim();
  $("token").value = "";
  $("login-error").hidden = true;
  try {
    const stats = await fetchStats();
    $("login").hidden = true;
    $("dashboard").hidden = false;
    render(stats);
    document.body.dataset.loaded = String(++loading);
    $("main").focus();
  } catch (error) {
    signOut(error.status === 401 ? "This token is not valid." : error.message);
  }
});

$("period").addEventListener("change", () => {
  const custom = $("period").value === "custom";
  for (const id of ["from", "to"]) {
    $(`${id}-field`).hidden = !custom;
    $(id).disabled = !custom;
  }
  if (!custom) void load();
});

for (const id of ["app", "provider", "purpose"]) $(id).addEventListener("change", () => void load());

$("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  if ($("filters").reportValidity()) void load();
});
