// How long a run will take on this adapter, said before it starts: each case's FLOPs and bytes over
// rates measured by a short calibration (our 256³ matmul and a layer norm, read-back included), plus
// a fixed setup cost per variant (pipeline compiles, uploads). Baselines such as the naive matmul run
// slower than ours, so the figure is a floor in spirit: the page calls it an estimate.
import { runSuites } from '../run';
import { kernelsSuite } from '../suites/kernels';
import { matmulSuite } from '../suites/matmul';
import type { BenchCase, BenchContext, Suite } from '../suites/types';

export interface Rates {
  gflops: number;
  gbps: number;
}

/** Per variant: compile, upload and read-back around the timed calls. */
const SETUP_S = 0.25;
/** Per dispatch in overhead cases. */
const DISPATCH_S = 20e-6;

export function estimateSeconds(cases: BenchCase[], rates: Rates, runs: number): number {
  let s = 0;
  for (const c of cases) {
    const one = c.dispatches ? c.dispatches * DISPATCH_S : Math.max(c.flops / (rates.gflops * 1e9), c.bytes / (rates.gbps * 1e9));
    s += c.variants.length * (SETUP_S + runs * one);
  }
  return s;
}

export function formatDuration(s: number): string {
  if (s < 60) return `${Math.max(1, Math.round(s))} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** Our matmul's GFLOP/s and a layer norm's GB/s on this adapter, from two quick cases. */
export async function calibrate(ctx: BenchContext): Promise<Rates> {
  const only = (suite: Suite, kernel: RegExp): Suite => ({
    ...suite,
    cases: (c) =>
      suite
        .cases({ ...c, quick: true })
        .filter((x) => kernel.test(x.kernel))
        .slice(0, 1)
        .map((x) => ({ ...x, variants: x.variants.filter((v) => v.name === 'ours') })),
  });
  const cases = await runSuites({ ...ctx, tf: null }, [only(matmulSuite, /^matmul/), only(kernelsSuite, /^layer norm/)], {
    warmup: 1,
    reps: 2,
  });
  const mm = cases[0]?.results[0];
  const ln = cases[1]?.results[0];
  if (!mm || !ln) throw new Error('calibration: the matmul or layer norm case did not run');
  return { gflops: mm.gflops, gbps: ln.gbps };
}
