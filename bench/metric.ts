// The figure each case is read by, shared by the CLI table, the page's table and its charts:
// µs per dispatch for overhead cases, ms per token for a model's decode step, tokens/s for a
// prefill, GFLOP/s where the kernel counts its arithmetic, GB/s where it only moves data.
import type { CaseResult } from './suites/types';

export interface Metric {
  value: number;
  unit: string;
  lowerIsBetter: boolean;
}

export function metric(
  c: Pick<CaseResult, 'dispatches' | 'tokens' | 'flops'>,
  r: { medianMs: number; gflops: number; gbps: number },
): Metric {
  if (c.dispatches) return { value: (1000 * r.medianMs) / c.dispatches, unit: 'µs/dispatch', lowerIsBetter: true };
  if (c.tokens === 1) return { value: r.medianMs, unit: 'ms/token', lowerIsBetter: true };
  if (c.tokens) return { value: (1000 * c.tokens) / r.medianMs, unit: 'tokens/s', lowerIsBetter: false };
  if (c.flops) return { value: r.gflops, unit: 'GFLOP/s', lowerIsBetter: false };
  return { value: r.gbps, unit: 'GB/s', lowerIsBetter: false };
}

/** A metric as text, with enough digits for small and large values alike. */
export function formatMetric(m: Metric): string {
  const digits = m.value >= 100 ? 0 : m.value >= 10 ? 1 : m.value >= 1 ? 2 : 3;
  return `${m.value.toFixed(digits)} ${m.unit}`;
}

/**
 * The share of the GPU's peak a result reaches, for the resource that binds it: the larger of
 * FP32 arithmetic (GFLOP/s over peak) and memory traffic (GB/s over peak bandwidth). Null for
 * overhead cases and where no peak is known.
 */
export function peakShare(
  c: Pick<CaseResult, 'dispatches' | 'flops' | 'bytes'>,
  r: { gflops: number; gbps: number },
  peak: { gflops: number; gbps: number },
): { percent: number; of: 'FP32' | 'bandwidth' } | null {
  if (c.dispatches) return null;
  const compute = c.flops && peak.gflops ? (100 * r.gflops) / peak.gflops : 0;
  const memory = c.bytes && peak.gbps ? (100 * r.gbps) / peak.gbps : 0;
  if (!compute && !memory) return null;
  return compute >= memory ? { percent: compute, of: 'FP32' } : { percent: memory, of: 'bandwidth' };
}
