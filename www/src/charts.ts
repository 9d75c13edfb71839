// The training charts: loss and accuracy curves (uPlot), the confusion matrix and the per-class
// table.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import type { ClassScores, ConfusionMatrix } from '../../npm/src/protocol';

/** Live train/validation curves over epochs, drawn by uPlot (a small chart library). */
export class Curves {
  private readonly plot: uPlot;

  constructor(host: HTMLElement, title: string) {
    // As wide as there is room for (up to 440 px), following the window: narrow screens included.
    const width = () => Math.max(200, Math.min(440, host.parentElement!.clientWidth - 4));
    this.plot = new uPlot({
      title, width: width(), height: 220,
      scales: { x: { time: false } },
      axes: [{ label: 'epoch', incrs: [1, 2, 5, 10, 20, 50] }, {}],
      series: [
        { label: 'epoch' },
        { label: 'train', stroke: '#1d4ed8', width: 2, points: { show: true } },
        { label: 'validation', stroke: '#dc2626', width: 2, points: { show: true } },
      ],
    }, [[], [], []], host);
    new ResizeObserver(() => {
      if (this.plot.width !== width()) this.plot.setSize({ width: width(), height: 220 });
    }).observe(host.parentElement!);
  }

  /** Replaces the curves with these per-epoch values. */
  set(train: number[], val: number[]) {
    this.plot.setData([train.map((_, i) => i + 1), train, val]);
  }
}

/** The most classes drawn as a full confusion table; beyond, the most confused pairs. */
export const TABLE_CLASSES = 30;
/** Pairs listed in the summary of a larger matrix. */
const LISTED_PAIRS = 10;

/** Renders a confusion matrix (rows: actual, columns: predicted) as a shaded table, or for more
 * than `TABLE_CLASSES` classes a summary: the pairs most often confused. */
export function renderConfusion(table: HTMLTableElement, labels: string[], m: ConfusionMatrix): void {
  const n = labels.length;
  if (n > TABLE_CLASSES) {
    const total = m.cells.reduce((sum, [, , c]) => sum + c, 0);
    const correct = m.cells.reduce((sum, [a, p, c]) => sum + (a === p ? c : 0), 0);
    const confused = m.cells.filter(([a, p]) => a !== p).sort((x, y) => y[2] - x[2]).slice(0, LISTED_PAIRS);
    table.innerHTML = `<caption>${n} classes: too many for a table. ${correct} of ${total} validation examples right; ` +
      `${confused.length ? 'the pairs most often confused:' : 'none confused.'}</caption>` +
      (confused.length ? '<tr><th scope="col">actual</th><th scope="col">predicted</th><th scope="col">examples</th></tr>' : '') +
      confused.map(([a, p, c]) => `<tr><td>${escape(labels[a])}</td><td>${escape(labels[p])}</td><td>${c}</td></tr>`).join('');
    return;
  }
  const counts = new Array<number>(n * n).fill(0);
  for (const [a, p, c] of m.cells) counts[a * n + p] = c;
  const max = counts.reduce((x, y) => Math.max(x, y), 1);
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
export function renderPerClass(table: HTMLTableElement, labels: string[], scores: ClassScores[]): void {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  table.innerHTML = '<tr><th scope="col">class</th><th scope="col">precision</th><th scope="col">recall</th><th scope="col">F1</th><th scope="col">examples</th></tr>' +
    scores.map((s, i) =>
      `<tr><th scope="row">${escape(labels[i])}</th><td>${pct(s.precision)}</td><td>${pct(s.recall)}</td><td>${s.f1.toFixed(3)}</td><td>${s.support}</td></tr>`).join('');
}

export function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
