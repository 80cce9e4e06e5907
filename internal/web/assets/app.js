// queuewatch dashboard: a small hash-routed single page, fed by the JSON API
// and kept live by the server-sent event stream. No build step, no CDN.

const $ = (sel, root = document) => root.querySelector(sel);
const main = $("#main");

const METRICS = [
  { name: "service_level", label: "Service level", unit: "%", digits: 1 },
  { name: "longest_wait", label: "Longest wait", unit: "s", digits: 0 },
  { name: "waiting", label: "Waiting", unit: "", digits: 0 },
  { name: "available_agents", label: "Agents available", unit: "", digits: 0 },
  { name: "abandon_rate", label: "Abandon rate", unit: "%", digits: 1 },
];
const STATE_RANK = { firing: 3, resolving: 2, pending: 1, ok: 0 };

const ui = {
  meta: null, queues: [], alerts: [], health: null,
  filter: sessionStorage.getItem("qw.filter") || "",
  stateFilter: sessionStorage.getItem("qw.state") || "all",
  sort: JSON.parse(sessionStorage.getItem("qw.sort") || '{"key":"state","dir":-1}'),
  delivStatus: "dead",
  changed: new Set(),
};

// ---- helpers ----------------------------------------------------------

function h(tag, attrs = {}, ...kids) {
  const el = document.createElementNS(tag.startsWith("svg:") ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml", tag.replace(/^svg:/, ""));
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

function fmt(name, v) {
  if (v === undefined || v === null || Number.isNaN(v)) return "–";
  const m = METRICS.find((x) => x.name === name);
  if (name === "longest_wait" || name === "asa") return dur(v);
  const d = m ? m.digits : 1;
  return v.toFixed(d) + (m && m.unit === "%" ? "%" : "");
}

function dur(sec) {
  sec = Math.round(sec);
  if (sec < 60) return sec + "s";
  if (sec < 3600) return Math.floor(sec / 60) + "m " + String(sec % 60).padStart(2, "0") + "s";
  return Math.floor(sec / 3600) + "h " + String(Math.floor((sec % 3600) / 60)).padStart(2, "0") + "m";
}

// serverNow is the server's clock (the demo runs on simulated time), from
// the skew seen in the last answer that carried generated_at.
function serverNow() { return Date.now() + (ui.skew || 0); }

function ago(t) {
  if (!t || new Date(t).getFullYear() < 2001) return "–";
  const s = (serverNow() - new Date(t).getTime()) / 1000;
  if (s < 0) return "in " + dur(-s);
  if (s < 5) return "just now";
  return dur(s) + " ago";
}

function when(t) {
  if (!t) return "–";
  const d = new Date(t);
  return d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function badge(state, text) {
  return h("span", { class: "badge st-" + state, "data-state": state }, text || state);
}

function token() { return sessionStorage.getItem("qw.token") || ""; }

async function api(path, opts = {}) {
  const headers = { Accept: "application/json", ...(opts.headers || {}) };
  if (token()) headers.Authorization = "Bearer " + token();
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { ...opts, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  let body = null;
  try { body = await res.json(); } catch { body = null; }
  if (res.ok && LIVE_READ.test(path)) showNotice((body && body.follower_notice) || "");
  if (!res.ok) {
    const err = new Error((body && body.error) || res.status + " " + res.statusText);
    err.status = res.status;
    err.reasons = (body && body.reasons) || [];
    throw err;
  }
  return body;
}

// LIVE_READ matches the reads that come from the leader's memory; a follower
// that cannot reach the leader answers them itself with a follower_notice.
const LIVE_READ = /^\/api\/v1\/(queues|alerts$|health$)/;

// showNotice shows (or, given "", hides) the banner saying this replica
// shows its own live data instead of the leader's.
function showNotice(msg) {
  const el = $("#replica-notice");
  if (!el || el.textContent === msg && el.hidden === !msg) return;
  el.textContent = msg;
  el.hidden = !msg;
}

function toast(msg, isErr = false) {
  const el = h("div", { class: "toast" + (isErr ? " err" : "") }, msg);
  $("#toasts").append(el);
  setTimeout(() => el.remove(), isErr ? 9000 : 4500);
}

function announce(msg) {
  const el = $("#announce");
  el.textContent = msg;
}

async function write(fn) {
  try {
    return await fn();
  } catch (e) {
    if (e.status === 401 || e.status === 403) openTokenDialog();
    toast(e.message + (e.reasons.length ? ": " + e.reasons.join("; ") : ""), true);
    throw e;
  }
}

// ---- charts -------------------------------------------------------------

function sparkline(points, thr) {
  const W = 90, H = 26;
  const svg = h("svg:svg", { class: "spark", viewBox: `0 0 ${W} ${H}`, "aria-hidden": "true", preserveAspectRatio: "none" });
  if (!points || points.length < 2) return svg;
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  let lo = Math.min(...ys), hi = Math.max(...ys);
  if (thr !== undefined) { lo = Math.min(lo, thr); hi = Math.max(hi, thr); }
  if (hi === lo) { hi += 1; lo -= 1; }
  const x0 = xs[0], x1 = xs[xs.length - 1] === x0 ? x0 + 1 : xs[xs.length - 1];
  const X = (x) => ((x - x0) / (x1 - x0)) * (W - 2) + 1;
  const Y = (y) => H - 2 - ((y - lo) / (hi - lo)) * (H - 4);
  const d = points.map((p, i) => (i ? "L" : "M") + X(p[0]).toFixed(1) + " " + Y(p[1]).toFixed(1)).join(" ");
  svg.append(h("svg:path", { class: "area", d: d + ` L${X(x1).toFixed(1)} ${H} L${X(x0).toFixed(1)} ${H} Z` }));
  if (thr !== undefined) svg.append(h("svg:line", { class: "thr", x1: 0, x2: W, y1: Y(thr), y2: Y(thr) }));
  svg.append(h("svg:path", { class: "line", d }));
  return svg;
}

// chartWidth is the drawing width of one chart of the queue page's grid (as
// laid out by .charts), so that text is drawn at its real size.
function chartWidth() {
  const avail = main.clientWidth - 40, gap = 14, min = 320;
  const cols = Math.max(1, Math.floor((avail + gap) / (min + gap)));
  return Math.max(260, Math.floor((avail - gap * (cols - 1)) / cols) - 34);
}

function bigChart(name, points, lines) {
  const W = chartWidth(), H = 170, L = 48, R = 8, T = 10, B = 20;
  const svg = h("svg:svg", { class: "big", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": chartLabel(name, points, lines) });
  const ys = points.map((p) => p[1]);
  for (const l of lines) ys.push(l.v);
  if (!ys.length) {
    svg.append(h("svg:text", { class: "axis", x: W / 2, y: H / 2, "text-anchor": "middle" }, "no samples yet"));
    return svg;
  }
  let lo = Math.min(...ys), hi = Math.max(...ys);
  const pad = (hi - lo) * 0.1 || 1;
  lo = Math.max(name === "service_level" || name === "abandon_rate" || name.endsWith("agents") || name === "waiting" || name === "longest_wait" ? 0 : -Infinity, lo - pad);
  hi = hi + pad;
  const now = points.length ? points[points.length - 1][0] : Date.now();
  const x0 = now - 3600 * 1000;
  const X = (x) => L + ((x - x0) / (now - x0)) * (W - L - R);
  const Y = (y) => T + (1 - (y - lo) / (hi - lo)) * (H - T - B);
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    svg.append(h("svg:line", { class: "grid", x1: L, x2: W - R, y1: Y(v), y2: Y(v) }));
    svg.append(h("svg:text", { class: "axis", x: L - 6, y: Y(v) + 3, "text-anchor": "end" }, fmt(name, v)));
  }
  for (let m = 0; m <= 60; m += 15) {
    const x = X(x0 + m * 60000);
    svg.append(h("svg:text", { class: "axis", x, y: H - 5, "text-anchor": m === 0 ? "start" : m === 60 ? "end" : "middle" }, m === 60 ? "now" : "-" + (60 - m) + "m"));
  }
  const pts = points.filter((p) => p[0] >= x0);
  if (pts.length) {
    const d = pts.map((p, i) => (i ? "L" : "M") + X(p[0]).toFixed(1) + " " + Y(p[1]).toFixed(1)).join(" ");
    svg.append(h("svg:path", { class: "area", d: d + ` L${X(pts[pts.length - 1][0]).toFixed(1)} ${Y(lo)} L${X(pts[0][0]).toFixed(1)} ${Y(lo)} Z` }));
    svg.append(h("svg:path", { class: "line", d }));
  }
  for (const l of lines) {
    svg.append(h("svg:line", { class: l.kind, x1: L, x2: W - R, y1: Y(l.v), y2: Y(l.v), "data-threshold": l.v }));
    svg.append(h("svg:text", { class: l.kind, x: W - R - 2, y: Y(l.v) - 3, "text-anchor": "end" }, l.label + " " + fmt(name, l.v)));
  }
  return svg;
}

function chartLabel(name, points, lines) {
  const m = METRICS.find((x) => x.name === name);
  const last = points.length ? fmt(name, points[points.length - 1][1]) : "no data";
  return `${m ? m.label : name} over the last hour, now ${last}` + lines.map((l) => `, ${l.label} ${fmt(name, l.v)}`).join("");
}

// ---- health ---------------------------------------------------------------

function renderHealth() {
  const hs = ui.health, box = $("#health");
  if (!hs) return;
  const cards = [];
  const card = (k, v, s, extra) => h("div", { class: "hcard", "data-health": k.toLowerCase().replace(/\W+/g, "-") }, h("div", { class: "k" }, k), h("div", { class: "v" }, v), s ? h("div", { class: "s", title: s }, s) : null, extra || null);
  if (hs.genesys) {
    cards.push(card("Genesys stream", hs.stream_enabled ? badge(hs.stream_connected ? "ok" : "firing", hs.stream_connected ? "connected" : "disconnected") : badge("silenced", "off"),
      hs.last_stream_error || (hs.stream_reconnects ? hs.stream_reconnects + " reconnects" : "")));
    cards.push(card("Last poll", ago(hs.last_poll), hs.last_poll_error || (hs.poll_interval ? "every " + hs.poll_interval + " · " + hs.queues + " queues" : "")));
    const pct = hs.budget_limit ? Math.round((100 * hs.budget_in_use) / hs.budget_limit) : 0;
    const meter = h("div", { class: "meter", role: "meter", "aria-valuemin": 0, "aria-valuemax": hs.budget_limit, "aria-valuenow": hs.budget_in_use, "aria-label": "Genesys request budget used" },
      h("svg:svg", { viewBox: "0 0 100 6", preserveAspectRatio: "none" }, h("svg:rect", { x: 0, y: 0, height: 6, width: pct, fill: pct > 85 ? "#d92d20" : "#2e90fa" })));
    cards.push(card("Genesys budget", hs.budget_in_use + " / " + hs.budget_limit, "requests in the last minute", meter));
  } else {
    cards.push(card("Sources", "webhook only", "no Genesys OAuth client configured"));
  }
  const depth = hs.outbox_total || 0;
  const per = Object.entries(hs.outbox || {}).filter(([, n]) => n > 0).map(([d, n]) => d + " " + n).join(" · ");
  cards.push(card("Outbox", depth === 0 ? badge("ok", "drained") : badge("pending", depth + " owed"), per || "nothing waiting to be sent"));
  cards.push(card("Store", hs.store === "ok" ? badge("ok", "ok") : badge("firing", "error"), hs.store === "ok" ? hs.samples + " samples · " + hs.transitions + " transitions" : hs.store));
  box.replaceChildren(...cards);
}

// ---- board ------------------------------------------------------------------

function queueRowState(q) { return q.silenced_by.length && q.state !== "ok" ? "silenced" : q.state; }

function sortValue(q, key) {
  if (key === "state") return STATE_RANK[q.state] * 10 + (q.priority ? 6 - Number(q.priority.slice(1)) : 0);
  if (key === "name") return q.queue_name.toLowerCase();
  return q.values[key] ?? -Infinity;
}

function visibleQueues() {
  const f = ui.filter.trim().toLowerCase();
  let qs = ui.queues.filter((q) => !f || q.queue_name.toLowerCase().includes(f) || q.queue_id.toLowerCase().includes(f) || (q.media_type || "").includes(f));
  if (ui.stateFilter === "breaching") qs = qs.filter((q) => q.state !== "ok");
  else if (ui.stateFilter !== "all") qs = qs.filter((q) => q.state === ui.stateFilter);
  const { key, dir } = ui.sort;
  return qs.sort((a, b) => {
    const va = sortValue(a, key), vb = sortValue(b, key);
    if (va < vb) return -dir;
    if (va > vb) return dir;
    return a.queue_name.localeCompare(b.queue_name);
  });
}

function seriesFor(q, metric) { return q.series.find((s) => s.metric === metric); }

function metricCell(q, m) {
  const v = q.values[m.name];
  const s = seriesFor(q, m.name);
  let thr = s ? s.threshold : undefined;
  const bad = s && (s.state === "firing" || s.state === "resolving" || s.state === "pending");
  const valEl = h("span", { class: "val" + (bad ? " bad" : "") }, fmt(m.name, v));
  if (m.name === "service_level" && q.service_level_target !== undefined) {
    valEl.append(h("span", { class: "tgt" }, "target " + fmt(m.name, q.service_level_target)));
  }
  return h("td", { class: "num", "data-label": m.label, "data-metric": m.name }, h("div", { class: "metric" }, valEl, sparkline(q.history[m.name], thr)));
}

function sortHeader(label, key) {
  const active = ui.sort.key === key;
  return h("th", { scope: "col", "aria-sort": active ? (ui.sort.dir > 0 ? "ascending" : "descending") : "none" },
    h("button", { class: "sort", type: "button", onclick: () => { ui.sort = { key, dir: active ? -ui.sort.dir : (key === "name" ? 1 : -1) }; sessionStorage.setItem("qw.sort", JSON.stringify(ui.sort)); renderBoard(); } }, label));
}

function alertsPanel() {
  const rows = ui.alerts.map((a) => h("tr", { class: "row-" + a.state, "data-alert": a.key },
    h("td", { "data-label": "Priority" }, a.priority ? h("span", { class: "prio prio-" + a.priority }, a.priority) : "–"),
    h("td", { class: "qname" }, h("a", { href: "#/queue/" + encodeURIComponent(a.queue_id) }, a.queue_name || a.queue_id), h("span", { class: "sub" }, a.rule + (a.media_type ? " · " + a.media_type : ""))),
    h("td", { "data-label": "State" }, badge(a.state), a.silenced_by.length || a.held ? h("span", {}, " ", badge("silenced", a.held && !a.silenced_by.length ? "held" : "silenced")) : null),
    h("td", { class: "num", title: when(a.since), "data-label": "Since" }, ago(a.since)),
    h("td", { class: "num", "data-label": "Worst" }, fmt(a.metric, a.worst), h("span", { class: "sub muted" }, " now " + fmt(a.metric, a.last_value))),
    h("td", { "data-label": "Delivered to" }, deliveredChips(a)),
  ));
  return h("section", { class: "panel", "aria-labelledby": "alerts-h" },
    h("div", { class: "panel-head" }, h("h2", { id: "alerts-h" }, "Open alerts", h("span", { class: "count", id: "alert-count" }, ui.alerts.length))),
    ui.alerts.length ? h("div", { class: "table-wrap" }, h("table", { id: "alerts", class: "cards" },
      h("thead", {}, h("tr", {}, ...["Priority", "Queue / rule", "State", "Since", "Worst", "Delivered to"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows))) : h("p", { class: "empty", id: "no-alerts" }, "No open alerts. Every queue is within its rules."));
}

function deliveredChips(a) {
  if (a.held && !a.notified) return h("span", { class: "muted" }, "held: " + a.held);
  if (!a.delivered.length) return h("span", { class: "muted" }, a.notified ? "queued" : "not notified");
  return h("div", { class: "deliv" }, a.delivered.map((d) => {
    const label = d.type === "slack" ? "Slack" : d.type === "pagerduty" ? "PagerDuty dedup_key" : d.type === "opsgenie" || d.type === "jsm" ? "alias" : d.type;
    const handle = d.link ? h("a", { href: d.link, target: "_blank", rel: "noopener" }, d.handle) : h("code", {}, d.handle || "");
    return h("span", { class: "chip", title: d.last_error || d.action + " " + d.status, "data-destination": d.destination },
      badge(d.status === "sent" ? "ok" : d.status === "dead" ? "dead" : "pending", d.destination), d.handle ? h("span", {}, label + " ", handle) : null);
  }));
}

function renderBoard() {
  const qs = visibleQueues();
  const filter = h("input", { id: "filter", type: "search", placeholder: "Filter queues", value: ui.filter, "aria-label": "Filter queues by name or id",
    oninput: (e) => { ui.filter = e.target.value; sessionStorage.setItem("qw.filter", ui.filter); renderBoardBody(); } });
  const stateSel = h("select", { id: "state-filter", "aria-label": "Show queues in state",
    onchange: (e) => { ui.stateFilter = e.target.value; sessionStorage.setItem("qw.state", ui.stateFilter); renderBoardBody(); } },
    ...[["all", "All states"], ["breaching", "Not OK"], ["firing", "Firing"], ["pending", "Pending"], ["resolving", "Resolving"], ["ok", "OK"]]
      .map(([v, t]) => h("option", { value: v, selected: ui.stateFilter === v }, t)));
  const board = h("section", { class: "panel", "aria-labelledby": "board-h" },
    h("div", { class: "panel-head" }, h("h2", { id: "board-h" }, "Queues", h("span", { class: "count", id: "queue-count" }, qs.length)), h("div", { class: "tools" }, filter, stateSel)),
    h("div", { class: "table-wrap", id: "board-body" }));
  main.replaceChildren(alertsPanel(), board);
  renderBoardBody();
}

function renderBoardBody() {
  const wrap = $("#board-body");
  if (!wrap) return;
  const qs = visibleQueues();
  const cnt = $("#queue-count");
  if (cnt) cnt.textContent = qs.length;
  if (!ui.queues.length) {
    wrap.replaceChildren(h("p", { class: "empty" }, "No samples yet. Queues appear as soon as the first metric arrives from Genesys Cloud or the webhook."));
    return;
  }
  const rows = qs.map((q) => {
    const rs = queueRowState(q);
    const tr = h("tr", { class: "row-" + q.state + (ui.changed.has(q.queue_id) ? " flash" : ""), "data-queue-id": q.queue_id, "data-state": q.state },
      h("td", { class: "qname" }, h("a", { href: "#/queue/" + encodeURIComponent(q.queue_id) }, q.queue_name || q.queue_id),
        h("span", { class: "sub" }, (q.media_type ? q.media_type + " · " : "") + "updated " + ago(q.updated_at))),
      h("td", { "data-label": "State" }, badge(q.state), q.priority && q.state !== "ok" ? h("span", {}, " ", h("span", { class: "prio prio-" + q.priority }, q.priority)) : null,
        q.silenced_by.length ? h("span", {}, " ", h("span", { class: "badge st-silenced silenced", title: "silenced by " + q.silenced_by.join(", ") }, "silenced")) : null),
      ...METRICS.map((m) => metricCell(q, m)));
    tr.dataset.rowState = rs;
    return tr;
  });
  ui.changed.clear();
  wrap.replaceChildren(h("table", { class: "board", id: "board" },
    h("thead", {}, h("tr", {}, sortHeader("Queue", "name"), sortHeader("State", "state"), ...METRICS.map((m) => sortHeader(m.label, m.name)))),
    h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 7, class: "empty" }, "No queue matches the filter.")))));
}

async function loadBoard() {
  const [q, a] = await Promise.all([api("/api/v1/queues"), api("/api/v1/alerts")]);
  ui.queues = q.queues;
  ui.alerts = a.alerts;
  ui.skew = new Date(q.generated_at).getTime() - Date.now();
}

// ---- queue page ---------------------------------------------------------

async function renderQueue(id) {
  const data = await api("/api/v1/queues/" + encodeURIComponent(id)).catch((e) => ({ error: e }));
  if (data.error) {
    main.replaceChildren(h("h1", {}, "Queue"), h("p", { class: "panel empty" }, data.error.message), h("a", { href: "#/" }, "← All queues"));
    return;
  }
  const parts = [];
  for (const q of data.queues) {
    parts.push(h("h1", {}, h("a", { href: "#/", "aria-label": "Back to all queues" }, "←"), q.queue_name || q.queue_id, q.media_type ? h("span", { class: "muted" }, q.media_type) : null, badge(q.state),
      q.silenced_by.length ? h("span", { class: "badge st-silenced silenced" }, "silenced") : null));
    parts.push(h("p", { class: "muted" }, "Queue id ", h("code", {}, q.queue_id), " · updated " + ago(q.updated_at)));
    const charts = METRICS.map((m) => {
      const lines = [];
      for (const s of q.series.filter((s) => s.metric === m.name)) {
        lines.push({ kind: "thr", v: s.threshold, label: s.rule });
        if (s.clear !== s.threshold) lines.push({ kind: "clr", v: s.clear, label: "clear" });
      }
      return h("figure", { class: "chart panel", "data-metric": m.name }, h("h3", {}, m.label, h("span", {}, fmt(m.name, q.values[m.name]))), bigChart(m.name, q.history[m.name] || [], lines));
    });
    parts.push(h("div", { class: "charts" }, charts));
    const rulesRows = q.series.map((s) => h("tr", { class: "row-" + s.state },
      h("td", {}, h("b", {}, s.rule)), h("td", {}, s.metric), h("td", {}, badge(s.state), s.held ? h("span", { class: "muted" }, " held: " + s.held) : null),
      h("td", { class: "num" }, (s.direction === "below" ? "< " : "> ") + fmt(s.metric, s.threshold) + (s.clear !== s.threshold ? " (clear " + fmt(s.metric, s.clear) + ")" : "")),
      h("td", { class: "num" }, fmt(s.metric, s.last_value)), h("td", { class: "num", title: when(s.since) }, ago(s.since))));
    parts.push(h("section", { class: "panel" }, h("h2", {}, "Rules"), h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ...["Rule", "Metric", "State", "Threshold", "Now", "Since"].map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, rulesRows)))));
    const hist = h("section", { class: "panel", id: "episodes" }, h("h2", {}, "Episode history"));
    parts.push(hist);
    const histories = await Promise.all(q.series.map((s) => api("/api/v1/alerts/" + encodeURIComponent(s.key) + "/history").catch(() => null)));
    const eps = [];
    histories.forEach((hi, i) => { if (hi) for (const ep of hi.episodes) eps.push({ ep, rule: q.series[i].rule }); });
    eps.sort((a, b) => new Date(b.ep.start) - new Date(a.ep.start));
    if (!eps.length) hist.append(h("p", { class: "empty" }, "No incidents recorded for this queue."));
    for (const { ep } of eps) hist.append(episodeCard(ep));
  }
  main.replaceChildren(...parts);
}

function episodeCard(ep) {
  const open = !ep.end;
  const rows = ep.deliveries.map((d) => deliveryRow(d, false));
  return h("article", { class: "episode", "data-episode": ep.id },
    h("header", {}, h("b", {}, ep.rule), badge(open ? "firing" : "ok", open ? "open" : "resolved"), ep.priority ? h("span", { class: "prio prio-" + ep.priority }, ep.priority) : null,
      h("span", { class: "muted" }, when(ep.start) + " → " + (open ? "now" : when(ep.end)) + " · worst " + fmt(ep.metric, ep.worst) + (ep.notified ? "" : " · not notified"))),
    rows.length ? h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ...["#", "Destination", "Action", "Status", "Attempts", "Last error", ""].map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, rows)))
      : h("p", { class: "muted" }, "No deliveries."));
}

// ---- deliveries ------------------------------------------------------------

function deliveryRow(d, showAlert = true) {
  const retry = d.status === "dead" ? h("button", { class: "small retry", type: "button", "data-retry": d.id, "aria-label": "Retry delivery " + d.id + " to " + d.destination,
    onclick: async (e) => {
      e.target.disabled = true;
      try { await write(() => api("/api/v1/deliveries/" + d.id + "/retry", { method: "POST" })); toast("Delivery " + d.id + " queued again"); refresh(); }
      catch { e.target.disabled = false; }
    } }, "Retry") : null;
  const t = d.transition || {};
  const status = d.status === "pending" && d.attempts > 0 ? "retrying" : d.status;
  return h("tr", { "data-delivery": d.id, "data-status": status },
    h("td", { class: "num" }, d.id),
    showAlert ? h("td", { class: "qname" }, h("a", { href: "#/queue/" + encodeURIComponent(t.queue_id || "") }, t.queue_name || d.key), h("span", { class: "sub" }, t.rule || "")) : null,
    h("td", {}, d.destination), h("td", {}, d.action),
    h("td", {}, badge(d.status === "pending" && d.attempts > 0 ? "pending" : d.status, status),
      status === "retrying" ? h("span", { class: "sub muted" }, " next " + ago(d.next_attempt_at)) : null),
    h("td", { class: "num" }, d.attempts),
    h("td", { class: "err" }, d.last_error ? h("span", { title: d.last_error }, d.last_error.length > 140 ? d.last_error.slice(0, 137) + "…" : d.last_error) : h("span", { class: "muted" }, "–")),
    h("td", {}, retry));
}

async function renderDeliveries() {
  const q = ui.delivStatus ? "?status=" + ui.delivStatus : "";
  const data = await api("/api/v1/deliveries" + q);
  const sel = h("select", { id: "delivery-status", "aria-label": "Show deliveries with status", onchange: (e) => { ui.delivStatus = e.target.value; renderDeliveries(); } },
    ...[["dead", "Dead letters"], ["retrying", "Retrying"], ["inflight", "In flight"], ["pending", "Pending"], ["sent", "Sent"], ["", "All"]].map(([v, t]) => h("option", { value: v, selected: ui.delivStatus === v }, t)));
  const rows = data.deliveries.map((d) => deliveryRow(d));
  main.replaceChildren(h("section", { class: "panel", "aria-labelledby": "deliv-h" },
    h("div", { class: "panel-head" }, h("h2", { id: "deliv-h" }, "Deliveries", h("span", { class: "count" }, rows.length)), h("div", { class: "tools" }, sel)),
    rows.length ? h("div", { class: "table-wrap" }, h("table", { id: "deliveries" }, h("thead", {}, h("tr", {}, ...["#", "Alert", "Destination", "Action", "Status", "Attempts", "Last error / vendor reason", ""].map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, rows)))
      : h("p", { class: "empty" }, "Nothing here.")));
}

// ---- silences --------------------------------------------------------------

// renderSilences shows the silences page. Live refreshes replace only the
// list: the form, with whatever the operator has typed in it, stays.
async function renderSilences() {
  const data = await api("/api/v1/silences");
  const list = silenceList(data);
  const shown = document.getElementById("sil-list");
  if (shown && document.getElementById("silence-form")) {
    shown.replaceWith(list);
    return;
  }
  main.replaceChildren(
    h("section", { class: "panel", "aria-labelledby": "sil-new-h" }, h("h2", { id: "sil-new-h" }, "New silence"),
      h("p", { class: "muted" }, "A silence holds back new pages; queues are still evaluated, and a breach still open when it ends pages then."), silenceForm()),
    list);
}

function silenceForm() {
  const rules = (ui.meta && ui.meta.rules) || [];
  const errs = h("ul", { class: "errors", id: "silence-errors", "aria-live": "polite" });
  const form = h("form", { class: "silence", id: "silence-form", novalidate: true },
    h("div", {}, h("label", { for: "sil-queues" }, "Queues"), h("input", { id: "sil-queues", name: "queues", placeholder: "Sales*, 3f0c…", "aria-describedby": "sil-queues-hint" }),
      h("div", { class: "hint", id: "sil-queues-hint" }, "Names (globs allowed) or ids, comma separated; * for all")),
    h("div", {}, h("label", { for: "sil-rule" }, "Rule"), h("select", { id: "sil-rule", name: "rule" }, h("option", { value: "" }, "Every rule"), ...rules.map((r) => h("option", { value: r }, r)))),
    h("div", {}, h("label", { for: "sil-duration" }, "For"), h("select", { id: "sil-duration", name: "duration" },
      ...[["30m", "30 minutes"], ["1h", "1 hour"], ["2h", "2 hours"], ["4h", "4 hours"], ["8h", "8 hours"], ["24h", "1 day"], ["until", "Until…"]].map(([v, t]) => h("option", { value: v, selected: v === "1h" }, t)))),
    h("div", {}, h("label", { for: "sil-until" }, "Until (local time)"), h("input", { id: "sil-until", name: "until", type: "datetime-local", disabled: true })),
    h("div", { class: "wide" }, h("label", { for: "sil-comment" }, "Comment"), h("input", { id: "sil-comment", name: "comment", required: true, placeholder: "Why: planned maintenance, known outage…" })),
    h("div", { class: "wide" }, h("button", { type: "submit", id: "sil-create" }, "Create silence"), errs));
  form.addEventListener("change", (e) => {
    if (e.target.id === "sil-duration") $("#sil-until").disabled = e.target.value !== "until";
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    errs.replaceChildren();
    const queues = $("#sil-queues").value.split(",").map((s) => s.trim()).filter(Boolean);
    const body = { queues, rule: $("#sil-rule").value, comment: $("#sil-comment").value, created_by: "dashboard" };
    if ($("#sil-duration").value === "until") {
      const v = $("#sil-until").value;
      if (v) body.ends_at = new Date(v).toISOString();
    } else body.duration = $("#sil-duration").value;
    try {
      const s = await write(() => api("/api/v1/silences", { method: "POST", body }));
      toast("Silence " + s.id + " created");
      announce("Silence created");
      form.reset();
      $("#sil-until").disabled = true;
      renderSilences();
    } catch (err) {
      errs.replaceChildren(...(err.reasons.length ? err.reasons : [err.message]).map((r) => h("li", {}, r)));
    }
  });
  return form;
}

function silenceList(data) {
  const rows = data.silences.map((s) => h("tr", { "data-silence": s.id, "data-state": s.state },
    h("td", {}, badge(s.state === "active" ? "active" : s.state === "pending" ? "pending" : "expired", s.state)),
    h("td", {}, s.queues.length ? s.queues.join(", ") : "every queue"), h("td", {}, s.rule || "every rule"),
    h("td", { class: "num", title: when(s.starts_at) + " → " + when(s.ends_at) }, s.state === "expired" ? "ended " + ago(s.ends_at) : "ends " + when(s.ends_at)),
    h("td", {}, s.comment, h("span", { class: "sub muted" }, " — " + s.created_by)),
    h("td", {}, s.state !== "expired" ? h("button", { class: "small danger", type: "button", "data-expire": s.id, "aria-label": "Expire silence " + s.id,
      onclick: async () => { await write(() => api("/api/v1/silences/" + encodeURIComponent(s.id), { method: "DELETE" })); toast("Silence " + s.id + " expired"); renderSilences(); } }, "Expire") : null)));
  return h("section", { class: "panel", id: "sil-list", "aria-labelledby": "sil-h" }, h("h2", { id: "sil-h" }, "Silences", h("span", { class: "count" }, rows.length)),
      rows.length ? h("div", { class: "table-wrap" }, h("table", { id: "silences" }, h("thead", {}, h("tr", {}, ...["State", "Queues", "Rule", "When", "Comment", ""].map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, rows)))
        : h("p", { class: "empty" }, "No silences."));
}

// ---- routing and live updates ---------------------------------------------

function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [, page, arg] = hash.split("/");
  return { page: page || "board", arg: arg ? decodeURIComponent(arg) : "" };
}

let rendering = null, again = false;
async function refresh() {
  if (rendering) { again = true; return rendering; }
  rendering = (async () => {
    const r = route();
    for (const a of document.querySelectorAll("[data-nav]")) {
      const cur = a.dataset.nav === r.page || (r.page === "queue" && a.dataset.nav === "board");
      if (cur) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    }
    try {
      if (r.page === "queue") await renderQueue(r.arg);
      else if (r.page === "deliveries") await renderDeliveries();
      else if (r.page === "silences") await renderSilences();
      else { await loadBoard(); renderBoard(); }
      api("/api/v1/health").then((hs) => { ui.health = hs; renderHealth(); }).catch(() => {});
      main.dataset.loaded = String(Date.now());
    } catch (e) {
      toast("Could not load: " + e.message, true);
      if (e.status === 401 || e.status === 403) openTokenDialog();
    }
  })();
  await rendering;
  rendering = null;
  if (again) { again = false; refresh(); }
}

// soon refreshes the page shortly after a burst of events; big boards wait
// longer, so that a storm does not turn into a stream of reloads.
let timer = null;
function soon() {
  if (timer) return;
  timer = setTimeout(() => { timer = null; refresh(); }, ui.queues.length > 200 ? 2000 : 250);
}

function connect() {
  const live = $("#live");
  const set = (st, txt) => { live.dataset.state = st; $(".txt", live).textContent = txt; };
  let url = "/api/v1/events";
  if (ui.meta && ui.meta.read_auth && token()) url += "?access_token=" + encodeURIComponent(token());
  const es = new EventSource(url);
  es.onopen = () => set("live", "Live");
  es.onerror = () => set(es.readyState === EventSource.CLOSED ? "down" : "connecting", es.readyState === EventSource.CLOSED ? "Offline" : "Reconnecting…");
  es.addEventListener("transition", (e) => {
    const t = JSON.parse(e.data);
    ui.changed.add(t.queue_id);
    if (t.to !== t.from) announce(`${t.queue_name || t.queue_id}: ${t.rule} is now ${t.to}`);
    soon();
  });
  es.addEventListener("delivery", (e) => {
    const d = JSON.parse(e.data);
    if (d.result === "dead") announce(`Delivery to ${d.destination} failed for good: ${d.reason}`);
    soon();
  });
  es.addEventListener("silence", soon);
  es.addEventListener("resync", soon);
  es.addEventListener("health", (e) => { ui.health = JSON.parse(e.data); renderHealth(); });
  if (es.readyState === EventSource.CLOSED) setTimeout(connect, 3000);
}

function openTokenDialog() {
  const d = $("#token-dialog");
  if (d.open) return;
  $("#token-input").value = token();
  d.showModal();
}

async function start() {
  $("#token-btn").addEventListener("click", openTokenDialog);
  $("#token-dialog").addEventListener("close", () => {
    if ($("#token-dialog").returnValue === "save") {
      sessionStorage.setItem("qw.token", $("#token-input").value.trim());
      toast("Token saved for this tab");
      refresh();
    }
  });
  window.addEventListener("hashchange", () => { refresh(); main.focus(); });
  try { ui.meta = await api("/api/v1/meta"); } catch (e) { ui.meta = null; }
  try { ui.health = await api("/api/v1/health"); renderHealth(); } catch { /* shown on the next health event */ }
  await refresh();
  connect();
  setInterval(() => { if (route().page === "board") renderBoardBody(); }, 15000); // keep "ago" texts fresh
}

start();
