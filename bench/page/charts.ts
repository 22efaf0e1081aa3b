// One chart per suite: every case of the suite (kernel and size) on the vertical axis, one horizontal bar
// per variant (ours, peers, baselines) and per loaded result file, all in median milliseconds on a log
// axis, so variants compare within a case and the cases of a suite share one unit. Ours is drawn solid in
// the accent colour with an outline; the others are lighter, each its own hue. The table below keeps each
// case's own unit (GFLOP/s, GB/s, µs/dispatch, ms/token, tokens/s).
import { Chart, registerables } from 'chart.js';
import type { CaseResult } from '../suites/types';

Chart.register(...registerables);

export interface Series {
  /** e.g. 'ours' or 'rtx-4090.json: tfjs'. */
  label: string;
  cases: CaseResult[];
  variant: string;
}

const OURS = '#1a7f4b';
const OTHERS = ['#d9822b', '#4a78c2', '#a35bb8', '#b8a02a', '#3f9a9a', '#8a8a8a', '#d0507a', '#6f9a30'];

/** The chart's rows and bars for one suite: { rows: 'kernel · size', datasets: one per series with a value per row }. */
export function suiteChartData(
  suite: string,
  series: Series[],
): { rows: string[]; datasets: { label: string; ours: boolean; data: (number | null)[] }[] } {
  const keys: string[] = [];
  for (const s of series)
    for (const c of s.cases)
      if ((c.suite ?? '') === suite && !keys.includes(`${c.kernel} · ${c.size}`)) keys.push(`${c.kernel} · ${c.size}`);
  const datasets = series
    .map((s) => ({
      label: s.label,
      ours: s.variant === 'ours',
      data: keys.map((key) => {
        const c = s.cases.find((x) => (x.suite ?? '') === suite && `${x.kernel} · ${x.size}` === key);
        return c?.results.find((r) => r.variant === s.variant)?.medianMs ?? null;
      }),
    }))
    .filter((d) => d.data.some((v) => v !== null));
  return { rows: keys, datasets };
}

export function drawCharts(root: HTMLElement, series: Series[]): void {
  for (const canvas of root.querySelectorAll('canvas')) Chart.getChart(canvas)?.destroy();
  root.replaceChildren();
  const suites = [...new Set(series.flatMap((s) => s.cases.map((c) => c.suite ?? '')))];
  let other = 0;
  const colours = new Map<string, string>();
  const colourOf = (label: string, ours: boolean) => {
    if (ours && !label.includes(': ')) return OURS;
    if (!colours.has(label)) colours.set(label, OTHERS[other++ % OTHERS.length]);
    return colours.get(label)!;
  };
  for (const suite of suites) {
    const { rows, datasets } = suiteChartData(suite, series);
    if (!datasets.length) continue;
    const box = document.createElement('figure');
    box.className = 'chart';
    box.dataset.kind = 'bar';
    box.dataset.suite = suite;
    box.dataset.variants = datasets.map((d) => d.label).join('|');
    box.dataset.highlight = datasets
      .filter((d) => d.ours && !d.label.includes(': '))
      .map((d) => d.label)
      .join('|');
    const holder = document.createElement('div');
    // Room for every case's bars: a row per case, a bar per variant within it.
    holder.style.height = `${Math.max(160, 70 + rows.length * (10 + 9 * datasets.length))}px`;
    holder.style.position = 'relative';
    const canvas = document.createElement('canvas');
    canvas.setAttribute('role', 'img');
    canvas.setAttribute(
      'aria-label',
      `${suite}, median ms (lower is faster): ${rows
        .map((r, i) => `${r}: ${datasets.map((d) => `${d.label} ${d.data[i] === null ? '–' : d.data[i]!.toPrecision(3)}`).join(', ')}`)
        .join('; ')}`,
    );
    holder.append(canvas);
    const note = Object.assign(document.createElement('p'), {
      className: 'note',
      textContent:
        datasets.length > 1
          ? `Median time per run, log scale, shorter is faster; ours is the solid green bar with an outline.`
          : 'Median time per run, log scale; this suite has no peer or baseline here, so there is nothing beside ours to compare.',
    });
    box.append(holder, note);
    root.append(box);
    new Chart(canvas, {
      type: 'bar',
      data: {
        labels: rows,
        datasets: datasets.map((d) => {
          const colour = colourOf(d.label, d.ours);
          const mine = colour === OURS;
          return {
            label: d.label,
            data: d.data,
            backgroundColor: mine ? colour : `${colour}b3`,
            borderColor: mine ? '#0b3d24' : colour,
            borderWidth: mine ? 2 : 0,
          };
        }),
      },
      options: {
        indexAxis: 'y',
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          title: { display: true, text: `${suite} suite` },
          tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${Number(ctx.parsed.x).toPrecision(3)} ms` } },
        },
        scales: {
          x: { type: 'logarithmic', title: { display: true, text: 'median ms (log scale, lower is faster)' } },
          y: { ticks: { autoSkip: false, font: { size: 10 } } },
        },
      },
    });
  }
}
