// Runs suites case by case and variant by variant, shared by the Node CLI and the browser page.
import { gbps, gflops, measure, type MeasureOptions } from './measure';
import type { BenchContext, CaseResult, Suite } from './suites/types';

export interface RunOptions extends MeasureOptions {
  onProgress?(done: number, total: number, label: string): void;
  /** Only cases whose size label is listed (all when empty). */
  sizes?: string[];
  /** Stops the run between variants; the cases finished so far are returned. */
  signal?: AbortSignal;
}

export async function runSuites(ctx: BenchContext, suites: Suite[], options: RunOptions = {}): Promise<CaseResult[]> {
  const plan = suites.flatMap((s) =>
    s
      .cases(ctx)
      .filter((c) => !options.sizes?.length || options.sizes.includes(c.size))
      .map((c) => ({ suite: s.name, c })),
  );
  const total = plan.reduce((n, p) => n + p.c.variants.length, 0);
  const out: CaseResult[] = [];
  let done = 0;
  for (const { suite, c } of plan) {
    if (options.signal?.aborted) break;
    const result: CaseResult = {
      suite,
      kernel: c.kernel,
      size: c.size,
      flops: c.flops,
      bytes: c.bytes,
      dispatches: c.dispatches,
      tokens: c.tokens,
      results: [],
      skipped: [],
      wrong: [],
    };
    // What outputs are checked against: the case's float64 result, else ours.
    let reference: Float32Array | Float64Array | null = c.tolerance !== undefined && c.reference ? c.reference() : null;
    for (const v of c.variants) {
      if (options.signal?.aborted) break;
      options.onProgress?.(done, total, `${c.kernel} ${c.size} ${v.name}`);
      try {
        const runner = await v.setup(ctx);
        if (!runner) {
          result.skipped.push({ variant: v.name, reason: 'peer not available here' });
        } else {
          try {
            if (c.tolerance !== undefined && runner.output) {
              const out = await runner.output();
              if (v.name === 'ours' && !reference) reference = out;
              else if (reference) {
                const maxError = relativeError(out, reference);
                if (!(maxError <= c.tolerance)) {
                  result.wrong!.push({ variant: v.name, maxError, tolerance: c.tolerance });
                  done++;
                  continue;
                }
              }
            }
            const t = await measure(() => runner.run(), options);
            result.results.push({
              variant: v.name,
              ...t,
              gflops: gflops(c.flops, t.medianMs),
              gbps: gbps(c.bytes, t.medianMs),
              info: runner.info,
            });
          } finally {
            runner.dispose();
          }
        }
      } catch (e) {
        result.skipped.push({ variant: v.name, reason: (e as Error).message.split('\n')[0] });
      }
      done++;
    }
    if (result.results.length || result.skipped.length || result.wrong!.length) out.push(result);
  }
  options.onProgress?.(done, total, options.signal?.aborted ? 'stopped' : 'done');
  return out;
}

/** max |a − b| over max |b| (NaN and a length mismatch count as infinitely wrong). */
export function relativeError(a: Float32Array, b: Float32Array | Float64Array): number {
  if (a.length !== b.length) return Infinity;
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    err = d > err || Number.isNaN(d) ? (Number.isNaN(d) ? Infinity : d) : err;
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / (scale || 1);
}

/** Ratio of `ours` to each peer, by median time (how many times faster ours is). */
export function ratios(c: CaseResult): Record<string, number> {
  const ours = c.results.find((r) => r.variant === 'ours');
  const out: Record<string, number> = {};
  if (!ours) return out;
  for (const r of c.results) if (r.variant !== 'ours') out[r.variant] = r.medianMs / ours.medianMs;
  return out;
}
