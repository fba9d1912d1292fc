// The report's behaviour: charts drawn by uPlot from the JSON in the page,
// times in a chosen zone, sortable tables. Nothing is fetched.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const specs = new Map(data.charts.map((c) => [c.id, c]));
  // What the page has done, for whoever opens it with a debugger (and the tests).
  const state = (window.miqReport = { charts: specs.size, drawn: 0, drawMs: 0, readyMs: null, plots: {} });

  // ---- zones: each a list of [from_ms, offset_minutes] over the charts' span.
  const zones = data.zone.slice();
  zones.push({ name: "this browser's zone", local: true });
  let zone = zones[0];

  function offsetMinutes(ms) {
    if (zone.local) return -new Date(ms).getTimezoneOffset();
    const list = zone.offsets;
    let minutes = list[0][1];
    for (let i = 1; i < list.length && list[i][0] <= ms; i++) minutes = list[i][1];
    return minutes;
  }
  function pad(n) {
    return String(n).padStart(2, "0");
  }
  function offsetText(minutes) {
    if (minutes === 0) return "UTC";
    const abs = Math.abs(minutes);
    return (minutes < 0 ? "-" : "+") + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60);
  }
  // A Date whose local fields read the chosen zone's wall clock: what uPlot's axis shows.
  function wallDate(ms) {
    const d = new Date(ms + offsetMinutes(ms) * 60000);
    return new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(),
      d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
  }
  function timeText(ms) {
    const minutes = offsetMinutes(ms);
    const d = new Date(ms + minutes * 60000);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()) + " " +
      offsetText(minutes);
  }
  function si(value, unit, digits) {
    const prefixes = ["", "k", "M", "G", "T", "P"];
    let v = value;
    let i = 0;
    while (Math.abs(v) >= 1000 && i < prefixes.length - 1) {
      v /= 1000;
      i++;
    }
    const text = Number.isInteger(v) ? String(v) : v.toFixed(digits);
    return (text + " " + prefixes[i] + unit).trim();
  }

  // Time ticks on a 24-hour clock in the chosen zone, the date under the first
  // tick of each day (with the year under the first tick of all).
  function timeLabels(u, splits, axisIdx, space, incr) {
    let lastDay = null;
    return splits.map((ms, i) => {
      const d = new Date(ms + offsetMinutes(ms) * 60000);
      const day = pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate());
      const date = i === 0 ? d.getUTCFullYear() + "-" + day : day;
      const hm = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
      const label = incr >= 86400000 ? date : day !== lastDay ? hm + "\n" + date : hm;
      lastDay = day;
      return label;
    });
  }

  const select = document.getElementById("zone");
  if (select) {
    zones.forEach((z, i) => {
      const option = document.createElement("option");
      option.value = String(i);
      option.textContent = z.name;
      select.appendChild(option);
    });
    select.addEventListener("change", () => {
      zone = zones[Number(select.value)];
      // Same window, axis labels and legend redone in the new zone.
      Object.values(state.plots).forEach((u) => u.setScale("x", { min: u.scales.x.min, max: u.scales.x.max }));
    });
  }

  // ---- markers: heap dumps (brown, a triangle on top) and restarts (red, dashed).
  function markers(list) {
    return {
      hooks: {
        draw: (u) => {
          const ctx = u.ctx;
          const { left, top, width, height } = u.bbox;
          const px = uPlot.pxRatio;
          ctx.save();
          ctx.beginPath();
          ctx.rect(left, top, width, height);
          ctx.clip();
          for (const [t, kind] of list) {
            const x = Math.round(u.valToPos(t, "x", true));
            if (x < left || x > left + width) continue;
            ctx.beginPath();
            ctx.lineWidth = 2 * px;
            if (kind === "dump") {
              const y0 = top + height * 0.07;
              ctx.strokeStyle = ctx.fillStyle = "#8c564b";
              ctx.setLineDash([]);
              ctx.moveTo(x, top + height);
              ctx.lineTo(x, y0);
              ctx.stroke();
              ctx.beginPath();
              ctx.moveTo(x, y0 - 7 * px);
              ctx.lineTo(x - 6 * px, y0 + 4 * px);
              ctx.lineTo(x + 6 * px, y0 + 4 * px);
              ctx.closePath();
              ctx.fill();
            } else {
              ctx.strokeStyle = "#d62728";
              ctx.setLineDash([10 * px, 6 * px]);
              ctx.moveTo(x, top + height);
              ctx.lineTo(x, top);
              ctx.stroke();
            }
          }
          ctx.restore();
        },
      },
    };
  }

  // ---- shift-drag pans, ctrl/cmd + wheel zooms around the pointer; plain drag
  // zooms and double-click resets (uPlot's own).
  function panZoom() {
    return {
      hooks: {
        ready: (u) => {
          const over = u.over;
          over.addEventListener("wheel", (e) => {
            if (!(e.ctrlKey || e.metaKey)) return;
            e.preventDefault();
            const { min, max } = u.scales.x;
            const at = u.posToVal(e.clientX - over.getBoundingClientRect().left, "x");
            const f = e.deltaY < 0 ? 0.75 : 1 / 0.75;
            u.setScale("x", { min: at - (at - min) * f, max: at + (max - at) * f });
          }, { passive: false });
          u.root.addEventListener("mousedown", (e) => {
            if (!e.shiftKey || !over.contains(e.target)) return;
            e.stopPropagation();
            e.preventDefault();
            const x0 = e.clientX;
            const { min, max } = u.scales.x;
            const perPx = (max - min) / over.clientWidth;
            const move = (m) => {
              const dx = (m.clientX - x0) * perPx;
              u.setScale("x", { min: min - dx, max: max - dx });
            };
            const up = () => {
              document.removeEventListener("mousemove", move);
              document.removeEventListener("mouseup", up);
            };
            document.addEventListener("mousemove", move);
            document.addEventListener("mouseup", up);
          }, true);
        },
      },
    };
  }

  // Fills `column` (aligned on `xs`) with the piecewise-linear line through
  // the points (`px`, `py`), inside their span.
  function fillLine(xs, column, px, py) {
    let k = 0;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i];
      if (x < px[0] || x > px[px.length - 1]) continue;
      while (k + 1 < px.length - 1 && px[k + 1] < x) k++;
      const [x0, x1, y0, y1] = [px[k], px[k + 1], py[k], py[k + 1]];
      column[i] = x1 === undefined || x1 === x0 ? y0 : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    }
  }

  // ---- one chart: each line its own table (times as differences), joined on time.
  function draw(el) {
    const spec = specs.get(el.dataset.chart);
    if (!spec || state.plots[spec.id]) return;
    const started = performance.now();
    const tables = spec.series.map((s) => {
      let t = 0;
      return [s.t.map((d) => (t += d)), s.y];
    });
    // Marker times join the time axis too, so a restart after the last sample shows.
    const markerTimes = spec.markers.map((m) => m[0]).filter((t, i, all) => all.indexOf(t) === i).sort((a, b) => a - b);
    if (markerTimes.length) tables.push([markerTimes, markerTimes.map(() => null)]);
    const aligned = uPlot.join(tables);
    if (markerTimes.length) aligned.pop();
    // A trend line has a value wherever the cursor is on its span: hover reads
    // the line, not its nearest end.
    spec.series.forEach((s, i) => {
      if (s.trend) fillLine(aligned[0], aligned[i + 1], tables[i][0], tables[i][1]);
    });
    const hasObjects = spec.series.some((s) => s.axis === "objects");
    const series = [{ label: "time", value: (u, v) => (v == null ? "—" : timeText(v)) }];
    for (const s of spec.series) {
      series.push({
        label: s.label,
        scale: s.axis,
        stroke: s.color,
        width: s.width,
        dash: s.dash,
        spanGaps: true,
        points: { show: false },
        value: (u, v) => (v == null ? "—" : s.axis === "bytes" ? si(v, "B", 2) : si(v, "", 2)),
      });
    }
    const fromZero = (u, min, max) => [0, max > 0 ? max * 1.08 : 1];
    const axes = [
      { values: timeLabels },
      { scale: "bytes", label: "memory (bytes)", size: 72, values: (u, vals) => vals.map((v) => si(v, "B", 1)) },
    ];
    if (hasObjects) {
      axes.push({ scale: "objects", side: 1, label: "objects", size: 64, grid: { show: false },
        values: (u, vals) => vals.map((v) => si(v, "", 1)) });
    }
    const u = new uPlot({
      width: Math.max(480, el.clientWidth),
      height: 420,
      ms: 1,
      tzDate: wallDate,
      series,
      axes,
      scales: { x: { time: true }, bytes: { range: fromZero }, objects: { range: fromZero } },
      cursor: { drag: { x: true, y: false } },
      plugins: [markers(spec.markers), panZoom()],
    }, aligned, el);
    state.plots[spec.id] = u;
    state.drawn++;
    state.drawMs += performance.now() - started;
  }

  const plots = Array.from(document.querySelectorAll(".plot[data-chart]"));
  // What is on screen now is drawn now; the rest as it scrolls into view.
  const margin = 400;
  const pending = [];
  for (const el of plots) {
    const r = el.getBoundingClientRect();
    if (r.top < window.innerHeight + margin && r.bottom > -margin) draw(el);
    else pending.push(el);
  }
  state.readyMs = performance.now();
  if (pending.length) {
    const observer = new IntersectionObserver((entries) => {
      for (const e of entries) {
        if (e.isIntersecting) {
          draw(e.target);
          observer.unobserve(e.target);
        }
      }
    }, { rootMargin: margin + "px 0px" });
    pending.forEach((el) => observer.observe(el));
  }
  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => {
      for (const el of plots) {
        const u = state.plots[el.dataset.chart];
        if (u) u.setSize({ width: Math.max(480, el.clientWidth), height: 420 });
      }
    }, 150);
  });

  // A link to a closed <details> opens it.
  for (const link of document.querySelectorAll('a[href^="#"]')) {
    const target = document.getElementById(link.getAttribute("href").slice(1));
    if (target && target.tagName === "DETAILS") link.addEventListener("click", () => (target.open = true));
  }

  // ---- sortable tables: click (or Enter on) a header; empty cells sort last.
  for (const table of document.querySelectorAll("table.sortable")) {
    const heads = Array.from(table.tHead.rows[0].cells);
    heads.forEach((th, col) => {
      if (th.classList.contains("nosort")) return;
      const sort = () => {
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach((h) => h.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const numeric = th.dataset.type === "num";
        const body = table.tBodies[0];
        const rows = Array.from(body.rows);
        const key = (row) => row.cells[col].textContent;
        rows.sort((a, b) => {
          const ka = key(a);
          const kb = key(b);
          if (ka === "" || kb === "") return (ka === "") - (kb === "");
          const order = numeric ? Number(ka) - Number(kb) : ka.localeCompare(kb);
          return ascending ? order : -order;
        });
        rows.forEach((row) => body.appendChild(row));
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          sort();
        }
      });
    });
  }
})();
