// The text report of a run, shared by the Node CLI and the browser CLI: one row per case with ours
// and each peer in the case's own unit (bench/metric.ts) and our speed-up against each, then the
// extra figures variants report, the variants skipped and the peers whose output was wrong. Given the
// GPU's peaks, ours gets its share of peak FP32 or bandwidth (bench/roofline.ts) and the memory-bound
// variants a line each with the bytes they must read and the share of the memory limit they reach.
import { formatMetric, metric } from './metric';
import { formatShare, roofline, rooflineLines, type RooflinePeak } from './roofline';
import { ratios } from './run';
import type { CaseResult } from './suites/types';

export function table(rows: CaseResult[], peak: RooflinePeak | null = null): string {
  const peers = [...new Set(rows.flatMap((r) => r.results.map((x) => x.variant)).filter((v) => v !== 'ours'))];
  const show = (r: CaseResult, x: { medianMs: number; gflops: number; gbps: number }) => formatMetric(metric(r, x));
  const head = ['kernel', 'size', 'ours ms', 'ours', 'GB/s', '% peak', ...peers.flatMap((p) => [p, `ours/${p}`])];
  const body = rows.map((r) => {
    const ours = r.results.find((x) => x.variant === 'ours');
    const q = ratios(r);
    const cells = [
      r.kernel,
      r.size,
      ours ? ours.medianMs.toFixed(3) : '-',
      ours ? show(r, ours) : '-',
      // Ours' own minimum bytes where it reports them (a decode step's weights + KV), else the case's.
      ours && r.bytes && !r.dispatches ? roofline(r, ours, peak).gbps.toFixed(2) : '-',
      ours ? formatShare(roofline(r, ours, peak).share) : '-',
    ];
    for (const p of peers) {
      const x = r.results.find((y) => y.variant === p);
      const wrong = r.wrong?.find((w) => w.variant === p);
      cells.push(wrong ? 'WRONG' : x ? show(r, x) : '-', q[p] ? `${q[p].toFixed(2)}x` : '-');
    }
    return cells;
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function report(results: CaseResult[], peak: RooflinePeak | null = null): string {
  const lines = [table(results, peak)];
  lines.push(
    peak
      ? `  peaks (${peak.source === 'table' ? 'known' : 'typed'}): ${peak.name}, ${peak.gflops} GFLOP/s FP32, ${peak.gbps} GB/s`
      : '  % peak: no peak known for this adapter (--peak-gflops N --peak-gbps N gives them)',
  );
  lines.push(...rooflineLines(results, peak));
  for (const r of results) {
    for (const x of r.results) {
      // Where the case has an f32 variant (the packed-weight suites), each variant's speed against it.
      const f32 = r.results.find((y) => y.variant === 'f32');
      const vsF32 = f32 && x !== f32 ? { 'speed vs f32': f32.medianMs / x.medianMs } : {};
      const { minBytes: _, ...own } = x.info ?? {}; // minBytes has its roofline line above
      const info = { ...own, ...vsF32 };
      if (Object.keys(info).length)
        lines.push(
          `  ${r.kernel} ${r.size} ${x.variant}: ${Object.entries(info)
            .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(2)}`)
            .join(', ')}`,
        );
    }
  }
  for (const r of results) for (const s of r.skipped) lines.push(`  skipped ${r.kernel} ${r.size} ${s.variant}: ${s.reason}`);
  for (const r of results)
    for (const w of r.wrong ?? [])
      lines.push(
        `  WRONG ${r.kernel} ${r.size} ${w.variant}: max |output - reference| ${w.maxError.toExponential(2)} of max |reference| (tolerance ${w.tolerance}); not timed`,
      );
  return lines.join('\n');
}
