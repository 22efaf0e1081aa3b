// One chart per kernel: its figure (bench/metric.ts) against size, one series per variant (ours,
// peers, baselines) and per loaded result file, so GPUs and peers can be compared side by side. A
// kernel measured at one size is drawn as bars: a line through one point shows nothing.
import { Chart, registerables } from 'chart.js';
import { metric } from '../metric';
import type { CaseResult } from '../suites/types';

Chart.register(...registerables);

export interface Series {
  /** e.g. 'ours' or 'rtx-4090.json: tfjs'. */
  label: string;
  cases: CaseResult[];
  variant: string;
}

const COLORS = ['#2a7', '#d52', '#36c', '#a3c', '#c90', '#5aa', '#888', '#e37', '#7b3'];

export function drawCharts(root: HTMLElement, series: Series[]): void {
  for (const old of Chart.instances ? Object.values(Chart.instances) : []) old.destroy();
  root.replaceChildren();
  const kernels = [...new Set(series.flatMap((s) => s.cases.map((c) => c.kernel)))];
  for (const kernel of kernels) {
    const sizes = [...new Set(series.flatMap((s) => s.cases.filter((c) => c.kernel === kernel).map((c) => c.size)))];
    const datasets = series
      .map((s, i) => ({
        label: s.label,
        data: sizes.map((size) => {
          const c = s.cases.find((x) => x.kernel === kernel && x.size === size);
          const r = c?.results.find((x) => x.variant === s.variant);
          return c && r ? metric(c, r).value : null;
        }),
        borderColor: COLORS[i % COLORS.length],
        backgroundColor: COLORS[i % COLORS.length],
        spanGaps: true,
      }))
      .filter((d) => d.data.some((v) => v !== null));
    if (!datasets.length) continue;
    const sample = series.flatMap((s) => s.cases).find((c) => c.kernel === kernel)!;
    const m = metric(sample, { medianMs: 1, gflops: 0, gbps: 0 });
    const bars = sizes.length === 1;
    const box = document.createElement('figure');
    box.className = 'chart';
    box.dataset.kind = bars ? 'bar' : 'line';
    const canvas = document.createElement('canvas');
    canvas.setAttribute('role', 'img');
    canvas.setAttribute(
      'aria-label',
      `${kernel}: ${datasets.map((d) => `${d.label} ${d.data.map((v) => (v === null ? '–' : v.toPrecision(3))).join(', ')}`).join('; ')} ${m.unit}`,
    );
    box.append(canvas);
    root.append(box);
    new Chart(canvas, {
      type: bars ? 'bar' : 'line',
      data: { labels: sizes, datasets },
      options: {
        animation: false,
        responsive: true,
        plugins: { title: { display: true, text: kernel } },
        scales: {
          y: { title: { display: true, text: `${m.unit} (${m.lowerIsBetter ? 'lower' : 'higher'} is better)` }, beginAtZero: true },
          x: { title: { display: true, text: 'size' } },
        },
      },
    });
  }
}
