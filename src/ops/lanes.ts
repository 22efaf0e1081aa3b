// GEMV kernels split each dot product over a group of TPR threads and sum the group. With subgroups at
// least TPR wide the sum is a few register shuffles (shaders/lib/lanes_subgroup.wgsl, groups numbered
// by the subgroup_id builtin where the browser has it, by an atomic counter otherwise); without, it
// goes through workgroup memory with a barrier per step (shaders/lib/lanes.wgsl). The library is
// chosen per device; TPR is clamped to the adapter's smallest subgroup so the shuffles stay inside
// one subgroup.
import { compose, type ShaderSource } from '../wgsl/compose';
import { tuned } from './grid';
import type { KernelContext, ShaderVariant } from './types';

function shuffles(ctx: KernelContext): boolean {
  return ctx.features.subgroups && ctx.features.subgroupMinSize >= 2;
}

/**
 * The shader `name` (which imports lib/lanes and declares `override TPR`) with the lane library this
 * device runs best, and a kernel call's variant (its own aliases, e.g. a weight format).
 */
export function withLanes(name: string): (ctx: KernelContext, variant?: ShaderVariant) => ShaderSource {
  return (ctx, variant) => {
    const base = name + (variant?.suffix ?? '');
    const compile = (lanes: Record<string, string>, suffix: string) =>
      compose(name, { aliases: { ...variant?.aliases, ...lanes }, name: base + suffix });
    return !shuffles(ctx)
      ? compile({}, '')
      : ctx.features.subgroupId
        ? compile({ 'lib/lanes': 'lib/lanes_subgroup', 'lib/lanes_id': 'lib/lanes_id_builtin' }, '+subgroup_id')
        : compile({ 'lib/lanes': 'lib/lanes_subgroup' }, '+subgroups');
  };
}

/**
 * Threads per dot product and outputs per group for a GEMV with rows of `K` and `N` outputs (an even
 * number of them with `pairs`, for the SwiGLU epilogue): the tuned
 * values where the autotuner measured some, else 8 threads (16 for rows over 1024) and 4 outputs per
 * group for wide outputs (N ≥ 16384, lm_head-sized: more reuse of each activation load), 2 otherwise.
 */
export function gemvConfig(ctx: KernelContext, key: string, K: number, N: number, pairs = false): { TPR: number; NR: number } {
  const t = tuned(ctx.tuning, key, { TPR: K <= 1024 ? 8 : 16, NR: N >= 16384 ? 4 : 2 });
  const TPR = shuffles(ctx) ? Math.min(t.TPR, ctx.features.subgroupMinSize) : t.TPR;
  const NR = Math.max(1, Math.min(4, t.NR));
  // SwiGLU pairs (gate, up) must land in one group: an even count.
  return { TPR, NR: pairs ? Math.min(4, NR + (NR % 2)) : NR };
}
