// Roofline figures for the CLI report: each result as a share of the GPU's peak FP32 rate or memory
// bandwidth (bench/page/peaks.ts's table, or peaks typed on the command line), and for the rows that
// must stream their weights (decode steps, decode GEMV) the fewest bytes one run must read and the
// fraction of the memory limit reached, so a GPU's figure reads as "x% of what its memory allows".
import { peakShare } from './metric';
import { lookupPeak, type Peak } from './page/peaks';
import type { CaseResult, VariantResult } from './suites/types';

export interface RooflinePeak extends Peak {
  /** 'table': bench/page/peaks.ts matched the adapter; 'typed': given by --peak-gflops / --peak-gbps. */
  source: 'table' | 'typed';
}

type Adapter = { vendor: string; architecture: string; device: string; description: string };

/**
 * The peaks results are read against: typed values win over the table's, either one alone fills in
 * the other from the table. Null when neither says anything (SwiftShader, an unknown GPU).
 */
export function peakFor(adapter: Adapter, typed: { gflops?: number; gbps?: number } = {}): RooflinePeak | null {
  for (const [k, v] of Object.entries(typed))
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new Error(`bench: --peak-${k} must be a positive number, got ${v}`);
  const known = lookupPeak(adapter);
  if (typed.gflops === undefined && typed.gbps === undefined) return known ? { ...known, source: 'table' } : null;
  return {
    name: known?.name ?? 'typed peak',
    gflops: typed.gflops ?? known?.gflops ?? 0,
    gbps: typed.gbps ?? known?.gbps ?? 0,
    source: 'typed',
  };
}

/**
 * The fewest bytes one decode step reads: every weight once (as held on the GPU, packed formats at
 * their packed size) and the K and V cached for the positions so far. `kvCacheBytes` is the cache
 * allocated for `maxLength` positions; `position` the step's.
 */
export function decodeStepBytes(weights: number, kvCacheBytes: number, maxLength: number, position: number): number {
  return weights + Math.round((kvCacheBytes * Math.min(position, maxLength)) / maxLength);
}

export interface Roofline {
  /** Bytes the run must move: the variant's own count where it reports one (info.minBytes), else the case's. */
  bytes: number;
  /** The rate those bytes are read at, GB/s. */
  gbps: number;
  /** Share of the binding peak (FP32 or bandwidth), null without a peak or for overhead cases. */
  share: { percent: number; of: 'FP32' | 'bandwidth' } | null;
}

export function roofline(c: CaseResult, x: VariantResult, peak: RooflinePeak | null): Roofline {
  const bytes = x.info?.minBytes ?? c.bytes;
  const gbps = bytes && x.medianMs > 0 ? bytes / x.medianMs / 1e6 : 0;
  const share = peak ? peakShare({ ...c, bytes }, { gflops: x.gflops, gbps }, peak) : null;
  return { bytes, gbps, share };
}

/** A percentage with fewer decimals the larger it is (0.012%, 3.1%, 45%). */
function percent(p: number): string {
  return `${p.toFixed(p >= 10 ? 0 : p >= 1 ? 1 : p >= 0.1 ? 2 : 3)}%`;
}

export function formatShare(s: Roofline['share']): string {
  return s ? `${percent(s.percent)} ${s.of === 'FP32' ? 'FP32' : 'BW'}` : '-';
}

/**
 * One line per variant that reports its minimum bytes (the memory-bound rows): bytes per run (per
 * token for a decode step), the rate it reads them at and the share of the bandwidth limit.
 */
export function rooflineLines(results: CaseResult[], peak: RooflinePeak | null): string[] {
  const lines: string[] = [];
  for (const c of results)
    for (const x of c.results) {
      if (x.info?.minBytes === undefined) continue;
      const r = roofline(c, x, peak);
      const per = c.tokens === 1 ? 'per token' : 'per run';
      const limit = peak?.gbps ? `, ${percent((100 * r.gbps) / peak.gbps)} of the memory limit (${peak.gbps} GB/s)` : '';
      lines.push(
        `  ${c.kernel} ${c.size} ${x.variant}: reads at least ${(r.bytes / 1e6).toFixed(1)} MB ${per}, ${r.gbps.toFixed(2)} GB/s${limit}`,
      );
    }
  return lines;
}
