// The demo's fake inboxes: polls /demo/api/inboxes and renders the OpsGenie
// alert list, the Slack channel and the PagerDuty incidents.
const API = "/demo/api/inboxes";
const EVERY_MS = 2000;

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...kids) => {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") n.className = v;
    else n.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) n.append(k);
  return n;
};

const PD_STATUS = { triggered: "st-firing", acknowledged: "st-pending", resolved: "st-ok" };
const SEVERITY = { critical: "P1", error: "P2", warning: "P3", info: "P4" };
// Emoji as text symbols that every system font has (a colour emoji font
// is often missing on servers and in headless browsers).
const EMOJI = {
  rotating_light: "⚠", white_check_mark: "✓", information_source: "ℹ", red_circle: "●",
  warning: "⚠", large_green_circle: "●", hourglass: "⧗", chart_with_downwards_trend: "↘",
};
const emoji = (s) => s.replace(/:([a-z0-9_+-]+):/g, (m, name) => EMOJI[name] ?? m);

// mrkdwn renders Slack mrkdwn as nodes: *bold*, _italic_, `code`,
// <url|text>, and <!date^epoch^format|fallback> in the reader's time zone.
const dateFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
function mrkdwn(text) {
  const frag = document.createDocumentFragment();
  const re = /<!date\^(\d+)\^[^|>]*(?:\|([^>]*))?>|<(https?:\/\/[^|>]+)(?:\|([^>]*))?>|\*([^*\n]+)\*|_([^_\n]+)_|`([^`\n]+)`/g;
  let last = 0;
  const plain = (s) => frag.append(emoji(s.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&")));
  for (const m of text.matchAll(re)) {
    plain(text.slice(last, m.index));
    if (m[1]) {
      const d = new Date(Number(m[1]) * 1000);
      frag.append(el("time", { datetime: d.toISOString(), title: m[2] ?? "" }, dateFmt.format(d)));
    } else if (m[3]) frag.append(el("a", { href: m[3], rel: "noreferrer" }, m[4] ?? m[3]));
    else if (m[5]) frag.append(el("strong", {}, emoji(m[5])));
    else if (m[6]) frag.append(el("em", {}, emoji(m[6])));
    else frag.append(el("code", {}, m[7]));
    last = m.index + m[0].length;
  }
  plain(text.slice(last));
  return frag;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const when = (iso) => (iso ? timeFmt.format(new Date(iso)) : "");
const whenEl = (iso) => el("time", { datetime: iso }, when(iso));

// keep remembers which <details> are open across re-renders.
const openDetails = new Set();
function details(key, label, items) {
  const d = el("details", { "data-key": key }, el("summary", {}, label), el("ul", {}, ...items));
  if (openDetails.has(key)) d.open = true;
  d.addEventListener("toggle", () => (d.open ? openDetails.add(key) : openDetails.delete(key)));
  return d;
}

function renderOpsGenie(og) {
  $("og-open").textContent = og.open;
  $("og-closed").textContent = og.closed;
  $("og-creates").textContent = og.creates;
  const rows = og.alerts.map((a) => {
    const msg = el("td", {}, el("div", {}, a.message), el("div", { class: "alias" }, a.alias));
    if (a.notes?.length) {
      msg.append(details("og:" + a.alias + a.created_at, `${a.notes.length} note${a.notes.length > 1 ? "s" : ""}`,
        a.notes.map((n) => el("li", {}, whenEl(n.at), " — ", n.text))));
    }
    return el("tr", { "data-id": a.alias + a.created_at, "data-v": a.updated_at },
      el("td", {}, el("span", { class: "badge " + (a.status === "open" ? "st-firing" : "st-ok") }, a.status)),
      el("td", {}, el("span", { class: "prio prio-" + a.priority }, a.priority)),
      msg,
      el("td", { class: "num" }, String(a.count)),
      el("td", { class: "when" }, whenEl(a.created_at), a.closed_at ? el("div", {}, "closed ", whenEl(a.closed_at)) : null));
  });
  swap($("og-rows"), rows, el("tr", {}, el("td", { colspan: 5, class: "empty" }, "No alerts yet — the scripted incidents start within the first simulated minutes.")));
}

function slackMessage(m, reply) {
  const li = el(reply ? "div" : "li", { class: "msg " + m.state, "data-id": m.ts, "data-v": m.edited || m.posted });
  li.append(el("div", { class: "meta" }, el("span", { class: "bot" }, "queuewatch"), whenEl(m.posted),
    m.edits ? el("span", { class: "edited", title: `updated ${m.edits} time(s) with chat.update` }, `edited ×${m.edits}`) : null));
  if (m.title) li.append(el("div", { class: "title" }, emoji(m.title)));
  const body = el("div", { class: "body" });
  for (const b of m.body ?? []) body.append(el("p", {}, mrkdwn(b)));
  li.append(body);
  if (m.fields?.length) li.append(el("div", { class: "fields" }, ...m.fields.map((f) => el("p", {}, mrkdwn(f)))));
  for (const c of m.context ?? []) li.append(el("div", { class: "ctx" }, mrkdwn(c)));
  if (m.links?.length) li.append(el("div", { class: "links" }, ...m.links.map((l) => el("a", { href: l.url, rel: "noreferrer" }, l.text))));
  if (m.replies?.length) {
    const th = el("div", { class: "thread", "aria-label": "thread" });
    for (const r of m.replies) th.append(slackMessage(r, true));
    li.append(th);
  }
  return li;
}

function renderSlack(sl) {
  $("sl-posts").textContent = sl.posts;
  $("sl-updates").textContent = sl.updates;
  $("sl-replies").textContent = sl.replies;
  $("sl-channel").textContent = sl.name ? "#" + sl.name : sl.channel;
  swap($("sl-messages"), sl.messages.map((m) => slackMessage(m, false)), el("li", { class: "empty" }, "No messages yet."));
}

function renderPagerDuty(pd) {
  $("pd-open").textContent = pd.triggered;
  $("pd-resolved").textContent = pd.resolved;
  const rows = pd.incidents.map((i) => el("tr", { "data-id": i.id, "data-v": i.status + i.events },
    el("td", {}, el("span", { class: "badge " + (PD_STATUS[i.status] ?? "st-pending") }, i.status)),
    el("td", {}, el("span", { class: "prio prio-" + (SEVERITY[i.severity] ?? "P5") }, i.severity)),
    el("td", {}, i.summary),
    el("td", {}, el("code", { class: "alias" }, i.dedup_key)),
    el("td", { class: "num" }, String(i.events)),
    el("td", { class: "when" }, whenEl(i.created_at), i.resolved_at ? el("div", {}, "resolved ", whenEl(i.resolved_at)) : null)));
  swap($("pd-rows"), rows, el("tr", {}, el("td", { colspan: 6, class: "empty" }, "No incidents yet.")));
}

// swap replaces a list's children and flashes the items that are new or changed.
let first = true;
function swap(parent, items, empty) {
  const before = new Map([...parent.children].map((c) => [c.dataset.id, c.dataset.v]));
  parent.replaceChildren(...(items.length ? items : [empty]));
  if (first) return;
  for (const c of items) if (before.get(c.dataset.id) !== c.dataset.v) c.classList.add("flash");
}

async function refresh() {
  const live = $("live");
  try {
    const r = await fetch(API, { cache: "no-store" });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const v = await r.json();
    $("og-h").closest("section").hidden = !v.opsgenie;
    $("pd-h").closest("section").hidden = !v.pagerduty;
    if (v.opsgenie) renderOpsGenie(v.opsgenie);
    if (v.slack) renderSlack(v.slack);
    if (v.pagerduty) renderPagerDuty(v.pagerduty);
    first = false;
    live.dataset.state = "live";
    $("live-text").textContent = "Live · " + timeFmt.format(new Date());
  } catch (e) {
    live.dataset.state = "down";
    $("live-text").textContent = "cannot reach the demo: " + e.message;
  }
}

refresh();
setInterval(refresh, EVERY_MS);
