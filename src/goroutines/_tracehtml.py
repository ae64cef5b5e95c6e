"""``python -m goroutines trace out.json -o out.html``: the HTML timeline.

One self-contained page: the trace's data and the page's own script and
style are inline, so it opens offline and loads nothing (no network, no
CDN). It shows a lane per goroutine with its states coloured (running,
runnable, and each kind of wait), a thin lane of its channel operations
under it when the trace has them (``--trace-chan``), the GC; wheel to zoom,
drag to pan, hover for an event, click a channel operation to see its
partner; and a summary: per goroutine, time running, runnable and blocked by
reason; per channel, operations and time blocked.

It reads any trace written by ``goroutines.trace`` (the trace-event format's
"X" slices of process 1 are the goroutines' stretches off the CPU, each
park's split at its ``args.ready`` into blocked and runnable; the time
between them within the goroutine's life, ``otherData.lives``, is running;
process 4's tracks are the goroutines' channel operations, process 5's those
of threads and asyncio tasks, process 3's tid 0 the GC; a trace of format 2
kept the channel operations in process 1, at tids of 1,000,000 and up). A
trace with explicit "running" slices and no ``lives`` reads as it is.
"""

from __future__ import annotations

import gzip
import html
import json
import os
from collections import defaultdict
from typing import Any

_CHAN_TID = 1_000_000  # format 2: process 1's channel-operation tracks (+ goroutine id)
_OPS_PID = 4  # format 3: a goroutine's channel operations (tid: its id)
_ACTORS_PID = 5  # a thread's or asyncio task's (tid: its number; lane key -tid)


def _load(src: str) -> dict[str, Any]:
    with open(src, "rb") as raw:
        gz = raw.read(2) == b"\x1f\x8b"
    f: Any = gzip.open(src, "rt", encoding="utf-8") if gz else open(src, encoding="utf-8")
    with f:
        try:
            doc = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{src}: not a trace-event JSON file ({e})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        raise ValueError(f'{src}: not a trace-event JSON file (no "traceEvents" list)')
    return doc


def timeline_data(doc: dict[str, Any]) -> dict[str, Any]:
    """What the page draws and tabulates, from a trace-event document."""
    names: dict[int, str] = {}
    states: dict[int, list[list[Any]]] = defaultdict(list)
    ops: dict[int, list[list[Any]]] = defaultdict(list)
    gc: list[list[float]] = []
    strings: list[str] = []
    string_ix: dict[str, int] = {}
    end = 0.0

    def intern(s: str) -> int:
        i = string_ix.get(s)
        if i is None:
            i = string_ix[s] = len(strings)
            strings.append(s)
        return i

    other = doc.get("otherData")
    fmt = other.get("format") if isinstance(other, dict) else None
    # Process 1's tids from which a track is channel operations (format 2).
    chan_tid = _CHAN_TID if isinstance(fmt, int) and fmt < 3 else 1 << 62
    for e in doc["traceEvents"]:
        if not isinstance(e, dict):
            continue
        ph, pid, tid = e.get("ph"), e.get("pid"), e.get("tid")
        if ph == "M" and e.get("name") == "thread_name" and isinstance(tid, int):
            name = str(e.get("args", {}).get("name", f"G{tid}"))
            if pid == 1 and tid < chan_tid:
                names[tid] = name
            elif pid == _ACTORS_PID:
                names[-tid] = name
            continue
        if ph != "X":
            continue
        ts, dur = float(e.get("ts", 0.0)), float(e.get("dur", 0.0))
        end = max(end, ts + dur)
        args = e.get("args") or {}
        if pid == 1 and isinstance(tid, int) and tid < chan_tid:
            name = str(e.get("name", ""))
            ready = args.get("ready")
            if isinstance(ready, (int, float)) and 0 <= ready <= dur:
                # a park: blocked until ready, then runnable (format 2)
                rest = ", ".join(f"{k}={v}" for k, v in args.items() if k not in ("ready", "by"))
                states[tid].append([ts, float(ready), intern(name), intern(rest)])
                by = args.get("by")
                states[tid].append(
                    [ts + ready, dur - ready, intern("runnable"), intern(f"by=G{by}" if by else "")]
                )
            else:
                extra = ", ".join(f"{k}={v}" for k, v in args.items())
                states[tid].append([ts, dur, intern(name), intern(extra)])
        elif isinstance(tid, int) and pid in (1, _OPS_PID, _ACTORS_PID):
            lane = tid - chan_tid if pid == 1 else tid if pid == _OPS_PID else -tid
            partners = [int(str(x)[1:]) for x in args.get("partners", []) if str(x)[1:].isdigit()]
            ops[lane].append(
                [
                    ts,
                    dur,
                    intern(str(e.get("name", ""))),
                    int(args.get("chan", 0)),
                    partners,
                    float(args.get("blocked_us", 0.0)),
                    intern(str(args.get("op", ""))),
                ]
            )
        elif pid == 3 and tid == 0:
            gc.append([ts, dur])
    lives = other.get("lives") if isinstance(other, dict) else None
    if isinstance(lives, dict):  # format 2: a goroutine ran where its lane has no slice
        for key, bounds in lives.items():
            if str(key).isdigit() and isinstance(bounds, list):
                _fill_running(states[int(key)], bounds, end, intern("running"), intern(""))
    gids = sorted(set(states) | set(ops), key=lambda g: (g < 0, abs(g)))  # goroutines first
    lanes = []
    for gid in gids:
        states[gid].sort(key=lambda s: s[0])
        ops[gid].sort(key=lambda s: s[0])
        lanes.append({"g": gid, "name": names.get(gid, f"G{gid}"), "s": states[gid], "o": ops[gid]})
    return {"lanes": lanes, "strings": strings, "gc": gc, "end": end}


def _fill_running(
    s: list[list[Any]], bounds: list[Any], end: float, running: int, empty: int
) -> None:
    """Add a "running" state to s (a goroutine's states) for each stretch of
    its lives (bounds: [start, end or None] pairs) that no state covers."""
    s.sort(key=lambda x: x[0])
    gaps = []
    j = 0
    for k in range(0, len(bounds) - 1, 2):
        lo, hi = bounds[k], bounds[k + 1]
        if not isinstance(lo, (int, float)):
            continue
        hi = float(hi) if isinstance(hi, (int, float)) else end
        t = float(lo)
        while j < len(s) and s[j][0] < hi:
            if s[j][0] > t:
                gaps.append([t, s[j][0] - t, running, empty])
            t = max(t, s[j][0] + s[j][1])
            j += 1
        if hi > t:
            gaps.append([t, hi - t, running, empty])
    s.extend(gaps)


def summary(data: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per goroutine: time running, runnable, and blocked by reason (µs); per
    channel: operations by kind and time blocked in them (µs)."""
    strings = data["strings"]
    per_g = []
    chans: dict[int, dict[str, Any]] = {}
    for lane in data["lanes"]:
        row: dict[str, Any] = {
            "g": lane["g"],
            "name": lane["name"],
            "running": 0.0,
            "runnable": 0.0,
            "blocked": defaultdict(float),
        }
        for _ts, dur, name_ix, _ in lane["s"]:
            name = strings[name_ix]
            if name == "running":
                row["running"] += dur
            elif name == "runnable":
                row["runnable"] += dur
            else:
                row["blocked"][name] += dur
        per_g.append(row)
        for _ts, _dur, _, chan, _, blocked, op_ix in lane["o"]:
            if not chan:
                continue
            c = chans.setdefault(chan, {"chan": chan, "ops": defaultdict(int), "blocked": 0.0})
            c["ops"][strings[op_ix]] += 1
            c["blocked"] += blocked
    return per_g, [chans[k] for k in sorted(chans)]


def _us(v: float) -> str:
    if v >= 1e6:
        return f"{v / 1e6:.3f} s"
    if v >= 1e3:
        return f"{v / 1e3:.3f} ms"
    return f"{v:.1f} µs"


def _summary_html(data: dict[str, Any]) -> str:
    per_g, chans = summary(data)
    rows = []
    for r in per_g:
        blocked = sum(r["blocked"].values())
        by_reason = "; ".join(
            f"{html.escape(k)} {_us(v)}"
            for k, v in sorted(r["blocked"].items(), key=lambda kv: -kv[1])
        )
        rows.append(
            f"<tr><td>{html.escape(r['name'])}</td><td>{_us(r['running'])}</td>"
            f"<td>{_us(r['runnable'])}</td><td>{_us(blocked)}</td><td>{by_reason}</td></tr>"
        )
    crow = []
    for c in chans:
        ops = ", ".join(f"{k} {n}" for k, n in sorted(c["ops"].items()))
        total = sum(c["ops"].values())
        crow.append(
            f"<tr><td>ch{c['chan']}</td><td>{total}</td><td>{html.escape(ops)}</td>"
            f"<td>{_us(c['blocked'])}</td></tr>"
        )
    out = [
        '<h2>Goroutines</h2><table id="summary-goroutines"><thead><tr><th>goroutine</th>'
        "<th>running</th><th>runnable</th><th>blocked</th><th>blocked, by reason</th></tr>"
        "</thead><tbody>",
        *rows,
        "</tbody></table>",
    ]
    if chans:
        out += [
            '<h2>Channels</h2><table id="summary-channels"><thead><tr><th>channel</th>'
            "<th>operations</th><th>by kind</th><th>time blocked</th></tr></thead><tbody>",
            *crow,
            "</tbody></table>",
        ]
    else:
        out.append(
            '<p class="note">No channel operations in this trace (record them with '
            "<code>--trace-chan</code>).</p>"
        )
    return "\n".join(out)


def render(doc: dict[str, Any], title: str = "goroutines trace") -> str:
    """The page for a trace-event document."""
    data = timeline_data(doc)
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return (
        _PAGE.replace("{{TITLE}}", html.escape(title))
        .replace("{{SUMMARY}}", _summary_html(data))
        .replace("{{DATA}}", payload)
    )


def write_html(src: str, out: str) -> None:
    """Read the trace src and write its timeline page to out."""
    doc = _load(src)
    page = render(doc, title=f"goroutines trace: {os.path.basename(src)}")
    with open(out, "w", encoding="utf-8") as f:
        f.write(page)


_PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{TITLE}}</title>
<style>
body { font: 13px system-ui, sans-serif; margin: 0; color: #222; }
header { padding: 8px 12px; background: #f4f4f4; border-bottom: 1px solid #ddd; }
header h1 { font-size: 15px; margin: 0 0 4px 0; }
#legend span { display: inline-block; margin-right: 12px; }
#legend i { display: inline-block; width: 12px; height: 12px; vertical-align: -2px;
            margin-right: 4px; border-radius: 2px; }
#view { position: relative; overflow-y: auto; max-height: 70vh; border-bottom: 1px solid #ddd; }
#labels { position: absolute; left: 0; top: 0; width: 180px; }
.lane-label { position: absolute; left: 4px; width: 172px; overflow: hidden;
              white-space: nowrap; text-overflow: ellipsis; font-size: 12px; }
canvas { position: absolute; left: 180px; top: 0; cursor: grab; }
#tip { position: fixed; pointer-events: none; background: #fffbe6; border: 1px solid #caa;
       padding: 4px 6px; font-size: 12px; display: none; max-width: 420px; z-index: 2; }
#info { padding: 6px 12px; min-height: 18px; background: #fafafa; border-bottom: 1px solid #eee; }
main { padding: 0 12px 24px 12px; }
table { border-collapse: collapse; margin: 6px 0 12px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; font-size: 12px; }
th { background: #f4f4f4; }
button { font: inherit; }
</style>
</head>
<body>
<header>
<h1>{{TITLE}}</h1>
<div id="legend"></div>
<div>Wheel: zoom &middot; drag: pan &middot; hover: event &middot; click a channel
operation (thin bars) to see its partner &middot; <button id="reset">reset zoom</button></div>
</header>
<div id="info"></div>
<div id="view"><div id="labels"></div><canvas id="cv"></canvas></div>
<div id="tip"></div>
<main>{{SUMMARY}}</main>
<script type="application/json" id="trace-data">{{DATA}}</script>
<script>
"use strict";
(function () {
  var errors = [];
  window.addEventListener("error", function (e) { errors.push(String(e.message)); });
  var data = JSON.parse(document.getElementById("trace-data").textContent);
  var S = data.strings, lanes = data.lanes;
  var LABEL_W = 180, LANE_H = 18, OPS_H = 7, GAP = 4, AXIS_H = 22;
  var COLORS = { "running": "#2e9e44", "runnable": "#e3b505", "chan receive": "#4a7bd0",
    "chan send": "#3867b5", "select": "#6c8fd8", "select (no cases)": "#6c8fd8",
    "sleep": "#9b59b6", "syscall": "#e67e22", "IO wait": "#16a085" };
  function color(name) {
    if (COLORS[name]) return COLORS[name];
    if (name.indexOf("sync.") === 0 || name.indexOf("semacquire") === 0) return "#c0392b";
    return "#7f8c8d";
  }
  var legend = document.getElementById("legend");
  [["running", "running"], ["runnable", "runnable"], ["chan receive", "chan receive / send / select"],
   ["sleep", "sleep"], ["syscall", "syscall (blocking())"], ["IO wait", "IO wait"],
   ["sync.Mutex.Lock", "sync"], ["other", "other waits"]].forEach(function (c) {
    var s = document.createElement("span");
    var i = document.createElement("i");
    i.style.background = color(c[0]);
    s.appendChild(i);
    s.appendChild(document.createTextNode(c[1]));
    legend.appendChild(s);
  });
  var hasOps = lanes.some(function (l) { return l.o.length > 0; });
  var rowH = LANE_H + (hasOps ? OPS_H + 1 : 0) + GAP;
  var view = document.getElementById("view"), cv = document.getElementById("cv");
  var labels = document.getElementById("labels"), tip = document.getElementById("tip");
  var info = document.getElementById("info");
  var ctx = cv.getContext("2d");
  var height = AXIS_H + lanes.length * rowH + (data.gc.length ? rowH : 0) + 4;
  labels.style.height = height + "px";
  view.style.height = Math.min(height, Math.round(window.innerHeight * 0.7)) + "px";
  lanes.forEach(function (l, i) {
    var d = document.createElement("div");
    d.className = "lane-label";
    d.dataset.goroutine = String(l.g);
    d.style.top = (AXIS_H + i * rowH + 2) + "px";
    d.textContent = l.name;
    d.title = l.name;
    labels.appendChild(d);
  });
  if (data.gc.length) {
    var d = document.createElement("div");
    d.className = "lane-label";
    d.style.top = (AXIS_H + lanes.length * rowH + 2) + "px";
    d.textContent = "GC";
    labels.appendChild(d);
  }
  var end = Math.max(data.end, 1), t0 = 0, t1 = end, selected = null, partners = [];
  function width() { return Math.max(200, view.clientWidth - LABEL_W - 2); }
  function x(t) { return (t - t0) / (t1 - t0) * width(); }
  function tAt(px) { return t0 + px / width() * (t1 - t0); }
  function fmt(us) {
    if (us >= 1e6) return (us / 1e6).toFixed(3) + " s";
    if (us >= 1e3) return (us / 1e3).toFixed(3) + " ms";
    return us.toFixed(1) + " \u00b5s";
  }
  function first(arr, t) {  // index of the first item ending after t
    var lo = 0, hi = arr.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (arr[mid][0] + arr[mid][1] < t) lo = mid + 1; else hi = mid;
    }
    return lo;
  }
  function draw() {
    var w = width(), dpr = window.devicePixelRatio || 1;
    cv.width = w * dpr; cv.height = height * dpr;
    cv.style.width = w + "px"; cv.style.height = height + "px";
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, height);
    ctx.fillStyle = "#555"; ctx.font = "11px sans-serif";
    for (var k = 0; k <= 8; k++) {
      var px = k / 8 * w;
      ctx.fillRect(px, AXIS_H - 6, 1, 6);
      ctx.fillText(fmt(tAt(px)), Math.min(px + 2, w - 60), 12);
    }
    lanes.forEach(function (l, i) {
      var y = AXIS_H + i * rowH;
      ctx.fillStyle = i % 2 ? "#fbfbfb" : "#f3f3f3";
      ctx.fillRect(0, y, w, rowH - GAP);
      for (var j = first(l.s, t0); j < l.s.length && l.s[j][0] <= t1; j++) {
        var s = l.s[j], a = x(s[0]), b = x(s[0] + s[1]);
        ctx.fillStyle = color(S[s[2]]);
        ctx.fillRect(a, y, Math.max(b - a, 0.5), LANE_H);
      }
      for (j = first(l.o, t0); j < l.o.length && l.o[j][0] <= t1; j++) {
        var o = l.o[j], oa = x(o[0]), ob = x(o[0] + o[1]);
        var isSel = selected && selected.lane === i && selected.j === j;
        var isPartner = partners.some(function (p) { return p.lane === i && p.j === j; });
        ctx.fillStyle = isSel ? "#d62728" : isPartner ? "#ff7f0e" : "#333";
        ctx.fillRect(oa, y + LANE_H + 1, Math.max(ob - oa, 1), OPS_H);
      }
    });
    if (data.gc.length) {
      var gy = AXIS_H + lanes.length * rowH;
      ctx.fillStyle = "#8e44ad";
      data.gc.forEach(function (g) {
        if (g[0] + g[1] < t0 || g[0] > t1) return;
        ctx.fillRect(x(g[0]), gy, Math.max(x(g[0] + g[1]) - x(g[0]), 1), LANE_H);
      });
    }
    if (selected) {
      ctx.strokeStyle = "#d62728"; ctx.lineWidth = 1.5;
      partners.forEach(function (p) {
        var so = lanes[selected.lane].o[selected.j], po = lanes[p.lane].o[p.j];
        ctx.beginPath();
        ctx.moveTo(x(so[0] + so[1]), AXIS_H + selected.lane * rowH + LANE_H + 4);
        ctx.lineTo(x(po[0] + po[1]), AXIS_H + p.lane * rowH + LANE_H + 4);
        ctx.stroke();
      });
    }
  }
  function hit(ev) {
    var r = cv.getBoundingClientRect(), px = ev.clientX - r.left, py = ev.clientY - r.top;
    var i = Math.floor((py - AXIS_H) / rowH), off = (py - AXIS_H) - i * rowH;
    if (i < 0 || i >= lanes.length) return null;
    var t = tAt(px), slop = (t1 - t0) / width() * 2, l = lanes[i];
    var arr = off > LANE_H ? l.o : l.s;
    for (var j = first(arr, t - slop); j < arr.length && arr[j][0] <= t + slop; j++) {
      if (arr[j][0] - slop <= t && t <= arr[j][0] + arr[j][1] + slop)
        return { lane: i, j: j, op: arr === l.o };
    }
    return null;
  }
  function describe(h) {
    var l = lanes[h.lane];
    if (h.op) {
      var o = l.o[h.j];
      return l.name + ": " + S[o[2]] + " at " + fmt(o[0]) + " for " + fmt(o[1]) +
        (o[5] ? " (blocked " + fmt(o[5]) + ")" : "") +
        (o[4].length ? "; partner " + o[4].map(function (g) { return "G" + g; }).join(", ") : "");
    }
    var s = l.s[h.j];
    return l.name + ": " + S[s[2]] + " at " + fmt(s[0]) + " for " + fmt(s[1]) +
      (S[s[3]] ? " (" + S[s[3]] + ")" : "");
  }
  function findPartners(h) {
    var o = lanes[h.lane].o[h.j], found = [];
    o[4].forEach(function (g) {
      lanes.forEach(function (l, i) {
        if (l.g !== g) return;
        var best = -1, bestD = Infinity, end = o[0] + o[1];
        l.o.forEach(function (p, j) {
          if (o[3] && p[3] && p[3] !== o[3]) return;
          var d = Math.abs(p[0] + p[1] - end);
          if (p[0] <= end && d < bestD) { best = j; bestD = d; }
        });
        if (best >= 0) found.push({ lane: i, j: best });
      });
    });
    return found;
  }
  var drag = null;
  cv.addEventListener("mousedown", function (ev) { drag = { x: ev.clientX, t0: t0, t1: t1, moved: false }; });
  window.addEventListener("mouseup", function (ev) {
    if (drag && !drag.moved) {
      var h = hit(ev);
      if (h && h.op) {
        selected = h; partners = findPartners(h);
        info.textContent = describe(h) + (partners.length ? "  \u2194  " +
          partners.map(describe).join("; ") : "  (no partner goroutine: it completed alone)");
      } else { selected = null; partners = []; info.textContent = h ? describe(h) : ""; }
      draw();
    }
    drag = null;
  });
  window.addEventListener("mousemove", function (ev) {
    if (drag) {
      var dt = (ev.clientX - drag.x) / width() * (drag.t1 - drag.t0);
      if (Math.abs(ev.clientX - drag.x) > 2) drag.moved = true;
      t0 = drag.t0 - dt; t1 = drag.t1 - dt; draw(); return;
    }
    if (ev.target !== cv) { tip.style.display = "none"; return; }
    var h = hit(ev);
    if (!h) { tip.style.display = "none"; return; }
    tip.textContent = describe(h);
    tip.style.display = "block";
    tip.style.left = (ev.clientX + 12) + "px"; tip.style.top = (ev.clientY + 12) + "px";
  });
  cv.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var r = cv.getBoundingClientRect(), t = tAt(ev.clientX - r.left);
    var f = ev.deltaY > 0 ? 1.25 : 0.8, span = Math.max((t1 - t0) * f, 0.01);
    var frac = (t - t0) / (t1 - t0);
    t0 = t - frac * span; t1 = t0 + span; draw();
  }, { passive: false });
  document.getElementById("reset").addEventListener("click", function () { t0 = 0; t1 = end; draw(); });
  window.addEventListener("resize", draw);
  draw();
  var status = document.createElement("div");
  status.id = "status";
  status.hidden = true;
  status.dataset.ready = "1";
  status.dataset.lanes = String(lanes.length);
  status.dataset.errors = String(errors.length);
  document.body.appendChild(status);
})();
</script>
</body>
</html>
"""
