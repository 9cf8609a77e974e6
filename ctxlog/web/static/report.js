/* ctxlog report: the data source of a report file. Everything a view asks for is answered from
   the data embedded in the page (no network): the run's events, folded into the tree at any
   offset the way ctxlog folds them; the trees ctxlog replayed where an event replaced the whole
   tree (restored, loaded); the timeline's spans; the verify badge at the time of the report. */
"use strict";

const CtxlogReport = (() => {
  const CLONE_EVERY = 20000; // events between two cached copies of the folded tree

  async function inflate(b64) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return JSON.parse(await new Response(stream).text());
  }

  function deepMerge(oldV, newV) {
    const isMap = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
    if (isMap(oldV) && isMap(newV)) {
      const out = Object.assign({}, oldV);
      for (const [k, v] of Object.entries(newV)) out[k] = k in out ? deepMerge(out[k], v) : v;
      return out;
    }
    if (Array.isArray(oldV) && Array.isArray(newV)) return oldV.concat(newV);
    return newV;
  }

  function mergeInto(parent, child, policy) {
    for (const [k, v] of Object.entries(child)) {
      if (policy === "keep_existing") { if (!(k in parent)) parent[k] = v; }
      else if (policy === "overwrite") parent[k] = v;
      else parent[k] = k in parent ? deepMerge(parent[k], v) : v;
    }
  }

  function emptyTree(run) {
    return { run, offset: 0, current_id: null, root_id: null, checkpoints: {}, contexts: {} };
  }

  // One event, applied as ctxlog's fold applies it (the report's events were verified by the fold
  // that made the report, so the checks are not repeated).
  function apply(t, e, keyframes) {
    const [offset, , , kind, cid, , , p] = e;
    const c = t.contexts[cid];
    t.offset = offset;
    if (kind === "initialized") {
      t.contexts[cid] = { id: cid, parent_id: null, name: p.name, isolation: "inherit", status: "active",
        data: {}, children: [], created_offset: offset, is_parallel: false };
      t.root_id = t.current_id = cid;
    } else if (kind === "entered") {
      t.contexts[cid] = { id: cid, parent_id: p.parent, name: p.name, isolation: p.isolation || "inherit",
        status: "active", data: {}, children: [], created_offset: offset, is_parallel: !!p.parallel };
      t.contexts[p.parent].children.push(cid);
      if (p.switch !== false) t.current_id = cid;
    } else if (kind === "set") c.data[p.key] = p.value;
    else if (kind === "deleted") delete c.data[p.key];
    else if (kind === "switched") t.current_id = cid;
    else if (kind === "merged") mergeInto(c.data, t.contexts[p.child].data, p.policy);
    else if (kind === "exited" || kind === "failed") {
      c.status = kind;
      if (p.switch !== false) t.current_id = c.parent_id;
    } else if (kind === "checkpoint") t.checkpoints[p.name] = offset;
    else if (kind === "restored" || kind === "loaded") {
      const kf = structuredClone(keyframes[String(offset)]);
      t.contexts = kf.contexts; t.current_id = kf.current_id; t.root_id = kf.root_id;
    }
  }

  class Source {
    constructor(data, events) {
      this.d = data;
      this.rows = events; // [offset, seq, time, kind, context, cause, hash, payload]
      this.clones = [emptyTree(data.run.run)];
      this.folded = { tree: emptyTree(data.run.run), i: 0 };
      this.interrupted = new Set(data.interrupted);
    }
    async ledger() { return this.d.ledger; }
    async runs() { return { runs: [this.d.run] }; }
    async run() { return this.d.run; }
    indexOf(offset) { // events folded to reach offset
      let lo = 0, hi = this.rows.length;
      while (lo < hi) { const m = (lo + hi) >> 1; if (this.rows[m][0] <= offset) lo = m + 1; else hi = m; }
      return lo;
    }
    point(at) {
      const r = this.d.run;
      if (at === undefined || at === null || at === "") return r.last_offset;
      const mark = r.checkpoints_list.find((c) => c.name === at);
      if (mark) return mark.offset;
      const n = Number(at);
      if (/^\d+$/.test(String(at)) && n >= r.first_offset && n <= r.head) return n;
      const names = r.checkpoints_list.map((c) => c.name).join(", ") || "(none)";
      throw new Error(`no checkpoint or offset '${at}' in run '${r.run}': its offsets span ` +
        `${r.first_offset}..${r.head}; checkpoints: ${names}`);
    }
    treeAt(offset) {
      const n = this.indexOf(offset);
      let f = this.folded;
      if (f.i > n) {
        const k = Math.min(Math.floor(n / CLONE_EVERY), this.clones.length - 1);
        f = { tree: structuredClone(this.clones[k]), i: k * CLONE_EVERY };
      }
      while (f.i < n) {
        apply(f.tree, this.rows[f.i], this.d.keyframes);
        f.i += 1;
        if (f.i % CLONE_EVERY === 0 && this.clones.length === f.i / CLONE_EVERY) this.clones.push(structuredClone(f.tree));
      }
      this.folded = f;
      f.tree.offset = offset;
      return f.tree;
    }
    shown(c) { return c.status === "failed" && this.interrupted.has(c.id) ? "interrupted" : c.status; }
    async tree(run, at, open) {
      const offset = this.point(at);
      const t = this.treeAt(offset);
      const path = [];
      for (let id = t.current_id; id !== null && id !== undefined; id = t.contexts[id].parent_id) path.push(id);
      const live = new Set([...path, ...open].filter((id) => id in t.contexts));
      const node = (c) => ({ id: c.id, parent_id: c.parent_id, name: c.name, isolation: c.isolation,
        is_parallel: c.is_parallel, status: this.shown(c), created_offset: c.created_offset, child_count: c.children.length });
      const contexts = {};
      const roots = t.root_id === null ? [] : [t.root_id];
      for (const id of roots) contexts[id] = node(t.contexts[id]);
      const depth = (id) => { let d = 0; for (let x = id; t.contexts[x].parent_id !== null; x = t.contexts[x].parent_id) d++; return d; };
      for (const id of [...live].sort((a, b) => depth(a) - depth(b))) {
        if (!(id in contexts)) continue;
        const kids = t.contexts[id].children;
        const listed = kids.slice(0, 200).concat(kids.slice(200).filter((k) => path.includes(k)));
        for (const k of listed) if (!(k in contexts)) contexts[k] = node(t.contexts[k]);
        contexts[id].shown_children = listed;
        contexts[id].more = kids.length - listed.length;
      }
      return { run, offset, root_ids: roots, current_id: t.current_id, contexts,
        open: [...live].filter((id) => id in contexts).sort(), total: Object.keys(t.contexts).length };
    }
    async context(run, at, id) {
      const offset = this.point(at);
      const t = this.treeAt(offset);
      const ctx = t.contexts[id];
      if (!ctx) throw new Error(`no context '${id}' in run '${run}' at offset ${offset}`);
      const resolved = {};
      for (let c = ctx; ; c = t.contexts[c.parent_id]) {
        for (const [k, v] of Object.entries(c.data)) if (!(k in resolved)) resolved[k] = { key: k, value: v, from: c.id };
        if (c.isolation === "sandboxed" || c.parent_id === null) break;
      }
      const keys = Object.keys(resolved).sort();
      return { id, name: ctx.name, isolation: ctx.isolation, status: ctx.status, offset,
        own: structuredClone(ctx.data), resolved: keys.map((k) => structuredClone(resolved[k])) };
    }
    async diff(run, a, b) {
      const ta = structuredClone(this.treeAt(this.point(a)));
      const tb = this.treeAt(this.point(b));
      const same = (x, y) => JSON.stringify(x) === JSON.stringify(y);
      const keys = (o, n) => {
        const out = [];
        for (const [k, v] of Object.entries(n)) {
          if (!(k in o)) out.push({ key: k, change: "added", old: null, new: v });
          else if (!same(o[k], v)) out.push({ key: k, change: "changed", old: o[k], new: v });
        }
        for (const [k, v] of Object.entries(o)) if (!(k in n)) out.push({ key: k, change: "removed", old: v, new: null });
        return out;
      };
      const entry = (c, change, oldS, newS, ks) => ({ id: c.id, change, parent_id: c.parent_id, isolation: c.isolation,
        is_parallel: c.is_parallel, old_status: oldS, new_status: newS, keys: ks });
      const contexts = [];
      for (const [id, n] of Object.entries(tb.contexts)) {
        const o = ta.contexts[id];
        if (!o) { contexts.push(entry(n, "added", null, n.status, keys({}, n.data))); continue; }
        const ks = keys(o.data, n.data);
        if (o.status !== n.status) contexts.push(entry(n, "status", o.status, n.status, ks));
        else if (ks.length) contexts.push(entry(n, "data", o.status, n.status, ks));
      }
      for (const [id, o] of Object.entries(ta.contexts)) if (!(id in tb.contexts)) contexts.push(entry(o, "removed", o.status, null, keys(o.data, {})));
      return { run, a_offset: ta.offset, b_offset: tb.offset, old_current: ta.current_id, new_current: tb.current_id, contexts };
    }
    async timeline(run, t0, t1) { return CtxlogLayout.layout(this.d.spans, t0, t1); }
    async events(run, after, limit) {
      const i = this.indexOf(after);
      const rows = this.rows.slice(i, i + limit).map(([offset, seq, time, kind, context, cause, hash, payload]) =>
        ({ offset, run, seq, time, kind, context, cause, hash, payload }));
      return { run, after, events: rows, more: i + limit < this.rows.length };
    }
  }

  async function open() {
    const data = await inflate(document.getElementById("ctxlog-data").textContent.trim());
    const events = await inflate(document.getElementById("ctxlog-events").textContent.trim());
    return new Source(data, events);
  }

  return { open, apply, emptyTree };
})();
