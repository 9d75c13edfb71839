// Small canvas drawings: training curves and the confusion matrix.

import { perClassScores } from '../../npm/src/evaluation';

export interface Series { name: string; color: string; values: number[] }

/** Draws line series over epochs 1..n on a canvas, with a legend and y-range labels. */
export function drawCurves(canvas: HTMLCanvasElement, title: string, series: Series[]): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const n = Math.max(...series.map((s) => s.values.length), 1);
  const pad = { l: 44, r: 10, t: 22, b: 22 };
  const lo = all.length ? Math.min(0, ...all) : 0;
  const hi = all.length ? Math.max(...all, lo + 1e-6) : 1;
  const x = (i: number) => pad.l + (n === 1 ? 0.5 : i / (n - 1)) * (width - pad.l - pad.r);
  const y = (v: number) => height - pad.b - ((v - lo) / (hi - lo)) * (height - pad.t - pad.b);
  ctx.strokeStyle = '#999';
  ctx.strokeRect(pad.l, pad.t, width - pad.l - pad.r, height - pad.t - pad.b);
  ctx.fillStyle = '#222';
  ctx.font = '12px system-ui, sans-serif';
  ctx.fillText(title, pad.l, 14);
  ctx.fillText(hi.toFixed(2), 2, pad.t + 8);
  ctx.fillText(lo.toFixed(2), 2, height - pad.b);
  ctx.fillText(`epoch 1–${n}`, width - 80, height - 6);
  series.forEach((s, k) => {
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    s.values.forEach((v, i) => (i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v))));
    ctx.stroke();
    s.values.forEach((v, i) => ctx.fillRect(x(i) - 2, y(v) - 2, 4, 4));
    ctx.fillText(s.name, width - pad.r - 150 + k * 75, 14);
  });
}

/** Renders a confusion matrix (rows: actual, columns: predicted) as a shaded table. */
export function renderConfusion(table: HTMLTableElement, labels: string[], counts: number[]): void {
  const n = labels.length;
  const max = Math.max(1, ...counts);
  const head = `<tr><th scope="col">actual \\ predicted</th>${labels.map((l) => `<th scope="col">${escape(l)}</th>`).join('')}</tr>`;
  const rows = labels.map((label, a) =>
    `<tr><th scope="row">${escape(label)}</th>${labels.map((_, p) => `<td>${counts[a * n + p]}</td>`).join('')}</tr>`);
  table.innerHTML = head + rows.join('');
  // Shades are set through the CSSOM: the page's Content-Security-Policy forbids inline styles.
  table.querySelectorAll('td').forEach((td, i) => {
    const [a, p, v] = [Math.floor(i / n), i % n, counts[i]];
    const shade = Math.round(255 - (v / max) * 160);
    td.style.background = a === p ? `rgb(${shade},255,${shade})` : v > 0 ? `rgb(255,${shade},${shade})` : '#fff';
  });
}

/** Renders the per-class precision / recall / F1 table. */
export function renderPerClass(table: HTMLTableElement, labels: string[], counts: number[]): void {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  table.innerHTML = '<tr><th scope="col">class</th><th scope="col">precision</th><th scope="col">recall</th><th scope="col">F1</th><th scope="col">examples</th></tr>' +
    perClassScores(counts, labels.length).map((s, i) =>
      `<tr><th scope="row">${escape(labels[i])}</th><td>${pct(s.precision)}</td><td>${pct(s.recall)}</td><td>${s.f1.toFixed(3)}</td><td>${s.support}</td></tr>`).join('');
}

export function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
