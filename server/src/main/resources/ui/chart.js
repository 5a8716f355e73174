// A small line chart as inline SVG, and the series the machine page plots from MachineStats samples.

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

/**
 * A line chart of `points` ([time in ms, value]) over the `spanMs` ending at `end` (ms), from 0 to `max` (at least the
 * highest value), with `label(value)` for the top of the axis. A break in the data (null value) breaks the line.
 */
export function lineChart({title, points, end, spanMs, max, label, cls}) {
  const width = 480, height = 120, left = 56, right = 8, top = 8, bottom = 20;
  const plotW = width - left - right, plotH = height - top - bottom;
  const values = points.map(([, v]) => v).filter(v => v !== null);
  const ceiling = Math.max(max, ...values, Number.MIN_VALUE);
  const x = t => left + plotW * (1 - (end - t) / spanMs);
  const y = v => top + plotH * (1 - v / ceiling);
  const chart = svg('svg', {class: `chart ${cls}`, viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': title});
  chart.append(svg('title', {}, title));
  chart.append(svg('rect', {class: 'plot', x: left, y: top, width: plotW, height: plotH}));
  chart.append(svg('text', {class: 'axis', x: left - 4, y: top + 10, 'text-anchor': 'end'}, label(ceiling)));
  chart.append(svg('text', {class: 'axis', x: left - 4, y: top + plotH, 'text-anchor': 'end'}, label(0)));
  chart.append(svg('text', {class: 'axis', x: left, y: height - 4}, `-${Math.round(spanMs / 60000)} min`));
  chart.append(svg('text', {class: 'axis', x: width - right, y: height - 4, 'text-anchor': 'end'}, 'now'));
  let run = [];
  const runs = [run];
  for (const [t, v] of points) {
    if (v === null || t < end - spanMs) {
      if (run.length) runs.push(run = []);
    } else {
      run.push(`${x(t).toFixed(1)},${y(v).toFixed(1)}`);
    }
  }
  for (const r of runs.filter(r => r.length)) {
    chart.append(r.length === 1
      ? svg('circle', {class: 'line', cx: r[0].split(',')[0], cy: r[0].split(',')[1], r: 1.5})
      : svg('polyline', {class: 'line', points: r.join(' ')}));
  }
  return chart;
}

/**
 * CPU use between consecutive samples, in percent of the machine's `cpus` ([time in ms, percent]); null where the
 * counter restarted (a new run of the VMM) so the line breaks there.
 */
export function cpuPercent(samples, cpus) {
  const points = [];
  for (let i = 1; i < samples.length; i++) {
    const t0 = Date.parse(samples[i - 1].time), t1 = Date.parse(samples[i].time);
    const used = samples[i].cpu.seconds - samples[i - 1].cpu.seconds;
    points.push([t1, t1 > t0 && used >= 0 ? used / ((t1 - t0) / 1000) / cpus * 100 : null]);
  }
  return points;
}

/** Memory charged to the machine at each sample ([time in ms, bytes]). */
export function memoryBytes(samples) {
  return samples.map(s => [Date.parse(s.time), s.memory.bytes]);
}
