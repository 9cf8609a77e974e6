/* ctxlog viewer: the views of a ledger (runs, timeline, tree, diff, chain), in plain DOM.
   Served by `ctxlog serve` it reads the JSON endpoints under /api and listens to /api/stream;
   inside a `ctxlog report` file it reads the data embedded in the page (report.js). */
"use strict";

(() => {
  const CONFIG = window.CTXLOG || { mode: "server" };
  const REPORT = CONFIG.mode === "report";
  const VIEWS = ["timeline", "tree", "diff", "chain"];
  const main = document.getElementById("main");
  let src = null;
  let route = null;
  let live = null; // what the open view redraws when the run grows: a function, or null
  const state = { open: new Set(), selected: null, chainLast: 0 };

  // -- small DOM helpers ------------------------------------------------------------------------
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "style") el.style.cssText = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat()) if (kid !== null && kid !== undefined) el.append(kid instanceof Node ? kid : String(kid));
    return el;
  }
  const json = (v) => JSON.stringify(v);
  const short = (v, n = 80) => { const s = typeof v === "string" ? v : json(v); return s.length > n ? s.slice(0, n - 1) + "…" : s; };
  const pill = (status) => h("span", { class: `pill status-${status || "pending"}` }, status || "…");

  // -- the data source of a served ledger -----------------------------------------------------
  class Server {
    constructor() { this.runs_ = {}; }
    async get(name, params) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") q.set(k, v);
      const r = await fetch(`/api/${name}?${q}`);
      const body = await r.json();
      if (!r.ok) throw Object.assign(new Error(body.error), { status: r.status, bad: body.bad_offset });
      return body;
    }
    ledger() { return this.get("ledger"); }
    runs() { return this.get("runs"); }
    run(run) { // kept until the run grows (the live stream says when)
      if (!this.runs_[run]) this.runs_[run] = this.get("run", { run }).catch((err) => { delete this.runs_[run]; throw err; });
      return this.runs_[run];
    }
    grew(run) { delete this.runs_[run]; }
    tree(run, at, open) { return this.get("tree", { run, at, open: [...open].join(",") }); }
    context(run, at, id) { return this.get("context", { run, at, id }); }
    diff(run, a, b) { return this.get("diff", { run, a, b }); }
    timeline(run, t0, t1) { return this.get("timeline", { run, t0, t1 }); }
    events(run, after, limit) { return this.get("events", { run, after, limit }); }
  }

  // -- routes: /runs/RUN?view=tree&at=9 (served) or #/runs/RUN?view=tree&at=9 (report) ----------
  function parse() {
    const text = REPORT ? (location.hash.slice(1) || "/") : location.pathname + location.search;
    const url = new URL(text, "http://x");
    const m = url.pathname.match(/^\/runs\/(.+)$/);
    const params = Object.fromEntries(url.searchParams);
    return { run: m ? decodeURIComponent(m[1]) : (REPORT ? CONFIG.run : null), view: params.view || "timeline", params };
  }
  function href(run, view, params) {
    const q = new URLSearchParams(Object.assign({ view }, params || {}));
    const path = run === null ? "/" : `/runs/${encodeURIComponent(run)}?${q}`;
    return REPORT ? `#${path}` : path;
  }
  function go(run, view, params) {
    const target = href(run, view, params);
    if (REPORT) location.hash = target.slice(1); else { history.pushState(null, "", target); show(); }
  }
  window.addEventListener(REPORT ? "hashchange" : "popstate", () => show());
  document.addEventListener("click", (ev) => {
    const a = ev.target.closest("a[data-route]");
    if (a && !REPORT) { ev.preventDefault(); history.pushState(null, "", a.getAttribute("href")); show(); }
  });

  // -- the header: ledger, verify badge, navigation ---------------------------------------------
  function badge(v) {
    const el = document.getElementById("verify");
    el.className = `badge verify-${v.state}`;
    el.textContent = v.state === "ok" ? "verified" : v.state === "bad" ? `does not verify: offset ${v.bad_offset ?? "?"}`
      : v.state === "pending" ? "verifying…" : "cannot verify";
    el.title = v.summary || v.reason || "";
    el.dataset.badOffset = v.bad_offset ?? "";
  }
  async function header() {
    const led = await src.ledger();
    if (state.head === undefined) state.head = led.head;
    document.getElementById("location").textContent = led.location;
    badge(led.verify);
    if (led.verify.state === "pending") setTimeout(header, 1000);
    return led;
  }
  function nav(run, view) {
    const bar = document.getElementById("nav");
    bar.replaceChildren(h("a", { href: href(null), "data-route": true, class: run === null ? "on" : "" }, "Runs"));
    if (run !== null) {
      bar.append(h("span", { class: "run-name" }, run));
      for (const v of VIEWS) bar.append(h("a", { href: href(run, v), "data-route": true, class: v === view ? "on" : "", id: `nav-${v}` }, v));
    }
  }
  function failure(err) {
    main.replaceChildren(h("div", { class: "error", id: "error" }, err.message));
  }

  // -- the runs view ------------------------------------------------------------------------------
  async function runsView() {
    const { runs } = await src.runs();
    const byName = new Map(runs.map((r) => [r.run, r]));
    const depth = (r) => { let d = 0; for (let x = r; x.source && byName.has(x.source) && d < 50; x = byName.get(x.source)) d++; return d; };
    const order = [];
    const place = (r) => { order.push(r); for (const f of runs.filter((x) => x.source === r.run)) place(f); };
    for (const r of runs.filter((x) => !x.source || !byName.has(x.source))) place(r);
    const rows = order.map((r) => h("tr", { class: "run-row", "data-run": r.run },
      h("td", { style: `padding-left:${0.5 + 1.5 * depth(r)}em` }, depth(r) ? "↳ " : "",
        h("a", { href: href(r.run, "timeline"), "data-route": true }, r.run),
        r.source ? h("span", { class: "lineage" }, ` forked from ${r.source} at ${r.source_offset}`) : null),
      h("td", {}, pill(r.status)), h("td", { class: "num" }, r.events), h("td", { class: "num" }, r.checkpoints),
      h("td", { class: "num" }, `${r.first_offset}..${r.last_offset}`), h("td", {}, r.first_time), h("td", {}, r.last_time)));
    main.replaceChildren(h("h2", {}, "Runs"), h("table", { id: "runs", class: "grid" },
      h("thead", {}, h("tr", {}, ["run", "status", "events", "checkpoints", "offsets", "first event", "last event"].map((c) => h("th", {}, c)))),
      h("tbody", {}, rows)));
    live = () => runsView();
  }

  // -- the timeline view --------------------------------------------------------------------------
  async function timelineView(run, params) {
    const t0 = params.t0 !== undefined ? Number(params.t0) : undefined;
    const t1 = params.t1 !== undefined ? Number(params.t1) : undefined;
    const tl = await src.timeline(run, t0, t1);
    const span = tl.t1 - tl.t0 || 1;
    const x = (t) => `${(100 * (t - tl.t0)) / span}%`;
    const w = (a, b) => `${Math.max(0.15, (100 * (Math.min(b, tl.t1) - Math.max(a, tl.t0))) / span)}%`;
    const lanes = tl.lanes.map((l, i) => h("div", { class: "lane", "data-lane": i }, h("span", { class: "lane-label" }, `depth ${l.depth}`)));
    for (const b of tl.bars) {
      const bar = h("div", { class: `bar status-${b.status}${b.parallel ? " parallel" : ""}${b.open ? " open" : ""}`,
        "data-id": b.id, title: `${b.id} · ${b.status} · ${(b.end - b.start).toFixed(1)} ms`,
        style: `left:${x(Math.max(b.start, tl.t0))};width:${w(b.start, b.end)}`,
        onclick: () => go(run, "tree", { at: String(b.offset), select: b.id }) }, b.name);
      lanes[b.lane].append(bar);
    }
    for (const c of tl.cells) {
      lanes[c.lane].append(h("div", { class: `cell status-${c.status}`, title: `${c.count} steps`,
        style: `left:${(100 * c.bucket) / tl.buckets}%;width:${100 / tl.buckets}%;opacity:${Math.min(1, 0.35 + c.count / 20)}` }));
    }
    const area = h("div", { id: "timeline", class: "timeline" }, lanes);
    let dragFrom = null;
    area.addEventListener("mousedown", (ev) => { dragFrom = ev.clientX; });
    area.addEventListener("mouseup", (ev) => {
      const r = area.getBoundingClientRect();
      if (dragFrom === null || Math.abs(ev.clientX - dragFrom) < 8) { dragFrom = null; return; }
      const [a, b] = [dragFrom, ev.clientX].sort((p, q) => p - q).map((px) => tl.t0 + (span * (px - r.left)) / r.width);
      dragFrom = null;
      go(run, "timeline", { t0: a.toFixed(3), t1: b.toFixed(3) });
    });
    const note = tl.aggregated ? `${tl.visible} of ${tl.spans} steps in view, short ones summed into cells: drag to zoom`
      : `${tl.visible} of ${tl.spans} steps in view; drag to zoom`;
    main.replaceChildren(h("h2", {}, "Timeline"),
      h("div", { class: "legend" }, ["active", "exited", "failed", "interrupted"].map(pill),
        h("span", { id: "timeline-note" }, ` ${note} · ${tl.t0.toFixed(1)}–${tl.t1.toFixed(1)} ms after the first event `),
        params.t0 !== undefined ? h("button", { onclick: () => go(run, "timeline") }, "whole run") : null),
      area);
    live = params.t1 === undefined ? () => timelineView(run, params) : null;
  }

  // -- the tree view ------------------------------------------------------------------------------
  async function treeView(run, params) {
    const info = await src.run(run);
    const at = params.at;
    if (params.select) { state.selected = params.select; }
    const t = await src.tree(run, at, state.open);
    const offset = t.offset;
    const scrub = h("input", { type: "range", id: "scrubber", min: info.first_offset, max: info.last_offset, value: offset });
    const shownOffset = h("span", { id: "offset" }, `offset ${offset}`);
    scrub.addEventListener("input", () => { shownOffset.textContent = `offset ${scrub.value}`; });
    scrub.addEventListener("change", () => go(run, "tree", { at: scrub.value }));
    const marks = info.checkpoints_list.map((c) => h("button", { class: `checkpoint${c.offset === offset ? " on" : ""}`,
      "data-offset": c.offset, title: `offset ${c.offset}`, onclick: () => go(run, "tree", { at: c.name }) }, c.name));
    const atHead = offset === info.last_offset;
    const toggle = (id) => { if (state.open.has(id)) state.open.delete(id); else state.open.add(id); treeView(run, params); };
    const nodeEl = (id) => {
      const c = t.contexts[id];
      const opened = c.shown_children !== undefined;
      const label = h("span", { class: `node-label status-${c.status}${id === t.current_id ? " current" : ""}${id === state.selected ? " selected" : ""}`,
        onclick: () => { state.selected = id; contextPanel(run, offset, id); treeSelect(id); } },
        c.name, c.id !== c.name ? h("span", { class: "id" }, ` ${c.id}`) : null, " ", pill(c.status),
        c.is_parallel ? h("span", { class: "tag" }, "parallel") : null,
        c.isolation !== "inherit" ? h("span", { class: "tag" }, c.isolation) : null);
      const twisty = h("span", { class: "twisty", onclick: () => toggle(id) }, c.child_count ? (opened ? "▾" : "▸") : "·");
      const li = h("li", { class: "node", "data-id": id, "data-status": c.status }, twisty, label);
      if (opened && c.shown_children.length) {
        li.append(h("ul", {}, c.shown_children.filter((k) => k in t.contexts).map(nodeEl),
          c.more ? h("li", { class: "more" }, `… and ${c.more} more`) : null));
      }
      return li;
    };
    const panel = h("div", { id: "context", class: "panel" }, "Click a context to see its data.");
    main.replaceChildren(h("h2", {}, "Context tree"),
      h("div", { class: "scrub" }, scrub, shownOffset, h("span", { class: "muted" }, ` of ${info.first_offset}..${info.last_offset}`),
        h("button", { onclick: () => go(run, "tree", {}) , id: "to-head" }, "head")),
      h("div", { class: "marks" }, "checkpoints: ", marks.length ? marks : h("span", { class: "muted" }, "none")),
      h("div", { class: "split" }, h("div", {}, h("p", { class: "muted" }, `${t.total} contexts at offset ${offset}; current: ${t.current_id}`),
        h("ul", { id: "tree", class: "tree" }, t.root_ids.filter((r) => r in t.contexts).map(nodeEl))), panel));
    if (state.selected && state.selected in t.contexts) contextPanel(run, offset, state.selected);
    live = atHead ? () => treeView(run, Object.assign({}, params, { at: undefined })) : null;
  }
  function treeSelect(id) {
    for (const el of document.querySelectorAll(".node-label.selected")) el.classList.remove("selected");
    const li = document.querySelector(`li.node[data-id="${CSS.escape(id)}"] > .node-label`);
    if (li) li.classList.add("selected");
  }
  async function contextPanel(run, offset, id) {
    const panel = document.getElementById("context");
    panel.replaceChildren(h("p", { class: "muted" }, "loading…"));
    try {
      const c = await src.context(run, offset, id);
      const own = Object.entries(c.own).map(([k, v]) => h("tr", { class: "own-row" }, h("td", {}, k), h("td", { class: "value" }, short(v, 400))));
      const res = c.resolved.map((r) => h("tr", { class: "resolved-row" }, h("td", {}, r.key), h("td", { class: "value" }, short(r.value, 200)),
        h("td", { class: r.from === id ? "muted" : "" }, r.from === id ? "own" : r.from)));
      panel.replaceChildren(h("h3", {}, `${c.name} `, pill(c.status), h("span", { class: "muted" }, ` ${c.isolation} · at offset ${c.offset}`)),
        h("h4", {}, "own data"), own.length ? h("table", { class: "grid", id: "own" }, own) : h("p", { class: "muted" }, "none"),
        h("h4", {}, "what get resolves here"), res.length ? h("table", { class: "grid", id: "resolved" },
          h("tr", {}, h("th", {}, "key"), h("th", {}, "value"), h("th", {}, "from")), res) : h("p", { class: "muted" }, "nothing"));
    } catch (err) { panel.replaceChildren(h("div", { class: "error" }, err.message)); }
  }

  // -- the diff view ------------------------------------------------------------------------------
  async function diffView(run, params) {
    const info = await src.run(run);
    const marks = info.checkpoints_list;
    const a = params.a || (marks[0] ? marks[0].name : String(info.first_offset));
    const b = params.b || String(info.last_offset);
    const pick = (id, value) => {
      const input = h("input", { id, value, list: "points", size: 14 });
      input.addEventListener("change", () => go(run, "diff", { a: id === "diff-a" ? input.value : a, b: id === "diff-b" ? input.value : b }));
      return input;
    };
    const d = await src.diff(run, a, b);
    const rows = [];
    for (const c of d.contexts) {
      rows.push(h("tr", { class: `diff-row change-${c.change}`, "data-id": c.id }, h("td", {}, c.id), h("td", {}, c.change),
        h("td", {}, `${c.old_status ?? "—"} → ${c.new_status ?? "—"}`),
        h("td", {}, c.keys.map((k) => h("div", { class: `key-${k.change}` }, `${k.key}: `,
          k.change === "added" ? short(k.new) : k.change === "removed" ? h("s", {}, short(k.old)) : [h("s", {}, short(k.old, 40)), " → ", short(k.new, 40)])))));
    }
    main.replaceChildren(h("h2", {}, "Diff"),
      h("datalist", { id: "points" }, marks.map((m) => h("option", { value: m.name }, `offset ${m.offset}`))),
      h("div", { class: "scrub" }, "from ", pick("diff-a", a), " to ", pick("diff-b", b),
        h("span", { class: "muted" }, ` offsets ${d.a_offset} → ${d.b_offset}; current ${d.old_current} → ${d.new_current}`)),
      rows.length ? h("table", { id: "diff", class: "grid" }, h("tr", {}, ["context", "change", "status", "keys"].map((x) => h("th", {}, x))), rows)
        : h("p", { id: "diff-empty" }, "No difference."));
    live = null;
  }

  // -- the chain view -----------------------------------------------------------------------------
  function eventRow(e, bad) {
    return h("tr", { class: `event${bad !== null && e.offset >= bad ? " bad" : ""}`, "data-offset": e.offset },
      h("td", { class: "num" }, e.offset), h("td", { class: "num" }, e.seq), h("td", {}, e.time), h("td", {}, e.kind),
      h("td", {}, e.context), h("td", { class: "num" }, e.cause ?? "–"), h("td", { class: "hash", title: e.hash }, e.hash.slice(0, 16) + "…"),
      h("td", { class: "value" }, short(e.payload)));
  }
  async function chainView(run, params) {
    const led = await src.ledger();
    const bad = led.verify.state === "bad" ? led.verify.bad_offset : null;
    const after = Number(params.after || 0);
    const page = await src.events(run, after, 500);
    const body = h("tbody", {}, page.events.map((e) => eventRow(e, bad)));
    state.chainLast = page.events.length ? page.events[page.events.length - 1].offset : after;
    const more = h("button", { id: "more", onclick: () => go(run, "chain", { after: String(state.chainLast) }) }, "next page");
    const jump = h("input", { id: "jump", placeholder: "from offset", size: 10 });
    jump.addEventListener("change", () => go(run, "chain", { after: String(Math.max(0, Number(jump.value) - 1)) }));
    main.replaceChildren(h("h2", {}, "Chain"),
      h("p", { id: "chain-verify", class: `verify-${led.verify.state}` }, led.verify.summary || led.verify.reason || led.verify.state),
      h("div", { class: "scrub" }, jump, page.more ? more : null),
      h("table", { id: "chain", class: "grid" }, h("thead", {}, h("tr", {}, ["offset", "seq", "time", "kind", "context", "cause", "hash", "payload"].map((c) => h("th", {}, c)))), body));
    live = page.more ? null : async () => {
      const next = await src.events(run, state.chainLast, 500);
      for (const e of next.events) body.append(eventRow(e, bad));
      if (next.events.length) state.chainLast = next.events[next.events.length - 1].offset;
    };
  }

  // -- dispatch, and the live stream --------------------------------------------------------------
  async function show() {
    route = parse();
    live = null;
    nav(route.run, route.view);
    try {
      if (route.run === null) await runsView();
      else if (route.view === "tree") await treeView(route.run, route.params);
      else if (route.view === "diff") await diffView(route.run, route.params);
      else if (route.view === "chain") await chainView(route.run, route.params);
      else await timelineView(route.run, route.params);
      document.body.dataset.ready = "1";
    } catch (err) { failure(err); document.body.dataset.ready = "1"; }
  }
  function listen() {
    const stream = new EventSource(`/api/stream?after=${state.head || 0}`); // what committed since the page read
    let busy = false, again = false;
    const redraw = async () => {
      if (busy) { again = true; return; }
      busy = true;
      try { if (live) await live(); header(); } catch (err) { failure(err); }
      busy = false;
      if (again) { again = false; redraw(); }
    };
    stream.addEventListener("head", (ev) => {
      const msg = JSON.parse(ev.data);
      for (const r of msg.runs) src.grew(r.run);
      document.getElementById("live").textContent = `live · head ${msg.head}`;
      if (live && (route.run === null ? msg.runs.length : msg.runs.some((r) => r.run === route.run))) redraw();
    });
    stream.addEventListener("failure", (ev) => {
      document.getElementById("live").textContent = JSON.parse(ev.data).error;
    });
  }

  async function start() {
    src = REPORT ? await CtxlogReport.open() : new Server();
    CONFIG.source = src; // the data source, for scripts (and tests) driving the page
    if (REPORT) { document.getElementById("live").textContent = CONFIG.generated; }
    try { await header(); } catch (err) { badge({ state: "error", reason: err.message }); }
    await show();
    if (!REPORT) listen();
  }
  start();
})();
