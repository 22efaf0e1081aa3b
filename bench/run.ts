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
    };
    for (const v of c.variants) {
      if (options.signal?.aborted) break;
      options.onProgress?.(done, total, `${c.kernel} ${c.size} ${v.name}`);
      try {
        const runner = await v.setup(ctx);
        if (!runner) {
          result.skipped.push({ variant: v.name, reason: 'peer not available here' });
        } else {
          try {
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
    if (result.results.length || result.skipped.length) out.push(result);
  }
  options.onProgress?.(done, total, options.signal?.aborted ? 'stopped' : 'done');
  return out;
}

/** Ratio of `ours` to each peer, by median time (how many times faster ours is). */
export function ratios(c: CaseResult): Record<string, number> {
  const ours = c.results.find((r) => r.variant === 'ours');
  const out: Record<string, number> = {};
  if (!ours) return out;
  for (const r of c.results) if (r.variant !== 'ours') out[r.variant] = r.medianMs / ours.medianMs;
  return out;
}
