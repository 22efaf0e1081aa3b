// Timing: warm-up runs, then repetitions; the median and the spread (min, max) are reported.
// Wall time covers the whole call (for plan.run: submit to read-back), so peers measured the same way
// compare fairly.

export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  reps: number;
}

export interface MeasureOptions {
  warmup?: number;
  reps?: number;
  /** Stop adding repetitions once this much time was spent (after at least `minReps`). */
  budgetMs?: number;
  minReps?: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Times `run`. When `run` resolves to a number, that number (ms) is the sample instead of the wall
 * time: CPU-side costs (encode + submit) are timed inside and the GPU drain is left out.
 */
export async function measure(run: () => Promise<unknown>, options: MeasureOptions = {}): Promise<Timing> {
  const { warmup = 1, reps = 5, budgetMs = Infinity, minReps = Math.min(5, reps) } = options;
  for (let i = 0; i < warmup; i++) await run();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < reps && (samples.length < minReps || performance.now() - start < budgetMs)) {
    const t0 = performance.now();
    const inner = await run();
    samples.push(typeof inner === 'number' ? inner : performance.now() - t0);
  }
  return summarize(samples);
}

/** Median, spread and count of timed samples (ms). */
export function summarize(samples: readonly number[]): Timing {
  return { medianMs: median(samples), minMs: Math.min(...samples), maxMs: Math.max(...samples), reps: samples.length };
}

export function gflops(flops: number, ms: number): number {
  return flops / ms / 1e6;
}

export function gbps(bytes: number, ms: number): number {
  return bytes / ms / 1e6;
}
