// Runs suites case by case, shared by the Node CLI and the browser page. Variant by variant by
// default; a case marked `interleave` sets up all its variants first and alternates their timed
// calls (ours, peer, ours, peer, …), so drift in the machine's speed falls on every variant alike.
import { gbps, gflops, measure, summarize, type MeasureOptions, type Timing } from './measure';
import type { BenchCase, BenchContext, CaseResult, Runner, Suite } from './suites/types';

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
    const record = (variant: string, t: Timing, runner: Runner) =>
      result.results.push({ variant, ...t, gflops: gflops(c.flops, t.medianMs), gbps: gbps(c.bytes, t.medianMs), info: runner.info });
    // What outputs are checked against: the case's float64 result, else ours.
    const check = { reference: c.tolerance !== undefined && c.reference ? c.reference() : null } as Check;
    if (c.interleave) {
      const ready: { name: string; runner: Runner }[] = [];
      try {
        for (const v of c.variants) {
          if (options.signal?.aborted) break;
          options.onProgress?.(done, total, `${c.kernel} ${c.size} ${v.name} (setup)`);
          const runner = await prepare(ctx, c, v, result, check);
          if (runner) ready.push({ name: v.name, runner });
        }
        const samples = ready.map(() => [] as number[]);
        try {
          for (const { runner } of ready) for (let i = 0; i < (options.warmup ?? 1); i++) await runner.run();
          for (let rep = 0; rep < (options.reps ?? 5) && !options.signal?.aborted; rep++) {
            for (const [i, { runner }] of ready.entries()) {
              const t0 = performance.now();
              const inner = await runner.run();
              samples[i].push(typeof inner === 'number' ? inner : performance.now() - t0);
            }
          }
          for (const [i, { name, runner }] of ready.entries()) if (samples[i].length) record(name, summarize(samples[i]), runner);
        } catch (e) {
          result.skipped.push({ variant: 'all', reason: (e as Error).message.split('\n')[0] });
        }
      } finally {
        for (const { runner } of ready) runner.dispose();
      }
      done += c.variants.length;
    } else {
      for (const v of c.variants) {
        if (options.signal?.aborted) break;
        options.onProgress?.(done, total, `${c.kernel} ${c.size} ${v.name}`);
        const runner = await prepare(ctx, c, v, result, check);
        if (runner) {
          try {
            record(v.name, await measure(() => runner.run(), options), runner);
          } catch (e) {
            result.skipped.push({ variant: v.name, reason: (e as Error).message.split('\n')[0] });
          } finally {
            runner.dispose();
          }
        }
        done++;
      }
    }
    if (result.results.length || result.skipped.length || result.wrong!.length) out.push(result);
  }
  options.onProgress?.(done, total, options.signal?.aborted ? 'stopped' : 'done');
  return out;
}

type Check = { reference: Float32Array | Float64Array | null };

/**
 * Sets a variant up and, where the case checks outputs, compares one run's output with the
 * reference (ours stands in when the case has none). A variant that cannot run is recorded as
 * skipped, a wrong one as wrong; both return null (and a wrong one is disposed here).
 */
async function prepare(
  ctx: BenchContext,
  c: BenchCase,
  v: BenchCase['variants'][number],
  result: CaseResult,
  check: Check,
): Promise<Runner | null> {
  let runner: Runner | null = null;
  try {
    runner = await v.setup(ctx);
    if (!runner) {
      result.skipped.push({ variant: v.name, reason: 'peer not available here' });
      return null;
    }
    if (c.tolerance !== undefined && runner.output) {
      const out = await runner.output();
      if (v.name === 'ours' && !check.reference) check.reference = out;
      else if (check.reference) {
        const maxError = relativeError(out, check.reference);
        if (!(maxError <= c.tolerance)) {
          result.wrong!.push({ variant: v.name, maxError, tolerance: c.tolerance });
          runner.dispose();
          return null;
        }
      }
    }
    return runner;
  } catch (e) {
    runner?.dispose();
    result.skipped.push({ variant: v.name, reason: (e as Error).message.split('\n')[0] });
    return null;
  }
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
