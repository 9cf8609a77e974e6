/* ctxlog report: the timeline window of a report, laid out as the server lays it out
   (ctxlog/web/timeline.py): spans as bars, or, past MAX_BARS in the window, the short ones summed
   into a grid of BUCKETS columns per lane, each cell showing the worst status it holds. */
"use strict";

const CtxlogLayout = (() => {
  const MAX_BARS = 800, BUCKETS = 200;
  const RANK = { failed: 4, interrupted: 3, active: 2, exited: 1 };

  function layout(spans, t0, t1) {
    const head = spans.head;
    const lo = t0 === undefined || t0 === null ? 0 : t0;
    const hi = Math.max(t1 === undefined || t1 === null ? head : t1, lo + 1e-6);
    const width = hi - lo;
    const bucket = (t) => Math.max(0, Math.min(BUCKETS - 1, Math.floor(((t - lo) * BUCKETS) / width)));
    const visible = spans.items.filter(([, , , s, e]) => s <= hi && (e === null ? head : e) >= lo);
    const aggregate = visible.length > MAX_BARS;
    const bars = [], cells = new Map();
    for (const [id, name, lane, start, endOrNull, status, parallel, offset] of visible) {
      const end = endOrNull === null ? head : endOrNull;
      if (aggregate && (end - start < width / 50 || bars.length >= MAX_BARS)) {
        for (let b = bucket(start); b <= bucket(end); b++) {
          const k = lane * BUCKETS + b;
          const cell = cells.get(k) || { lane, bucket: b, count: 0, status };
          cell.count += 1;
          if (RANK[status] > RANK[cell.status]) cell.status = status;
          cells.set(k, cell);
        }
      } else bars.push({ id, name, lane, start, end, open: endOrNull === null, status, parallel, offset });
    }
    return { run: spans.run, base_ns: spans.base_ns, t0: lo, t1: hi, head, lanes: spans.lanes, bars,
      cells: [...cells.values()].sort((a, b) => a.lane - b.lane || a.bucket - b.bucket), buckets: BUCKETS,
      spans: spans.items.length, visible: visible.length, aggregated: aggregate };
  }

  return { layout };
})();
