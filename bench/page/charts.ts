// One chart per kernel: throughput against size, one series per variant (ours, peers, baselines) and
// per loaded result file, so GPUs and peers can be compared side by side.
import { Chart, registerables } from 'chart.js';
import type { CaseResult } from '../suites/types';

Chart.register(...registerables);

export interface Series {
  /** e.g. 'ours' or 'rtx-4090.json: tfjs'. */
  label: string;
  cases: CaseResult[];
  variant: string;
}

const COLORS = ['#2a7', '#d52', '#36c', '#a3c', '#c90', '#5aa', '#888', '#e37', '#7b3'];

/** Throughput used on the y axis: GFLOP/s when the kernel counts FLOPs, else GB/s, else µs/dispatch. */
export function throughput(c: CaseResult, r: { gflops: number; gbps: number; medianMs: number }): number {
  if (c.dispatches) return (1000 * r.medianMs) / c.dispatches;
  return c.flops ? r.gflops : r.gbps;
}

export function unit(c: CaseResult): string {
  return c.dispatches ? 'µs / dispatch (lower is better)' : c.flops ? 'GFLOP/s' : 'GB/s';
}

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
          return c && r ? throughput(c, r) : null;
        }),
        borderColor: COLORS[i % COLORS.length],
        backgroundColor: COLORS[i % COLORS.length],
        spanGaps: true,
      }))
      .filter((d) => d.data.some((v) => v !== null));
    if (!datasets.length) continue;
    const box = document.createElement('figure');
    box.className = 'chart';
    const canvas = document.createElement('canvas');
    box.append(canvas);
    root.append(box);
    const sample = series.flatMap((s) => s.cases).find((c) => c.kernel === kernel)!;
    new Chart(canvas, {
      type: 'line',
      data: { labels: sizes, datasets },
      options: {
        animation: false,
        responsive: true,
        plugins: { title: { display: true, text: kernel } },
        scales: { y: { title: { display: true, text: unit(sample) }, beginAtZero: true }, x: { title: { display: true, text: 'size' } } },
      },
    });
  }
}
