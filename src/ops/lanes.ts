// GEMV kernels split each dot product over a group of TPR threads and sum the group. With subgroups at
// least TPR wide the sum is a few register shuffles (shaders/lib/lanes_subgroup.wgsl, groups numbered
// by the subgroup_id builtin where the browser has it, by an atomic counter otherwise); without, it
// goes through workgroup memory with a barrier per step (shaders/lib/lanes.wgsl). The library is
// chosen per device; TPR is clamped to the adapter's smallest subgroup so the shuffles stay inside
// one subgroup.
import shared from '../../shaders/lib/lanes.wgsl?raw';
import idAtomic from '../../shaders/lib/lanes_id_atomic.wgsl?raw';
import idBuiltin from '../../shaders/lib/lanes_id_builtin.wgsl?raw';
import subgroup from '../../shaders/lib/lanes_subgroup.wgsl?raw';
import type { ShaderSource } from '../gpu/pipeline-cache';
import { tuned } from './grid';
import type { KernelContext } from './types';

function shuffles(ctx: KernelContext): boolean {
  return ctx.features.subgroups && ctx.features.subgroupMinSize >= 2;
}

/** The shader `kernel` (which declares `override TPR`) with the lane library this device runs best. */
export function withLanes(name: string, kernel: string): (ctx: KernelContext) => ShaderSource {
  const plain = { name, code: shared + kernel };
  const atomic = { name: `${name}+subgroups`, code: subgroup + idAtomic + kernel };
  const builtin = { name: `${name}+subgroup_id`, code: subgroup + idBuiltin + kernel };
  return (ctx) => (!shuffles(ctx) ? plain : ctx.features.subgroupId ? builtin : atomic);
}

/**
 * Threads per dot product and outputs per group for a GEMV with rows of `K` and `N` outputs: the tuned
 * values where the autotuner measured some, else 8 threads (16 for rows over 1024) and 4 outputs per
 * group for wide outputs (N ≥ 16384, lm_head-sized: more reuse of each activation load), 2 otherwise.
 */
export function gemvConfig(ctx: KernelContext, key: string, K: number, N: number): { TPR: number; NR: number } {
  const t = tuned(ctx.tuning, key, { TPR: K <= 1024 ? 8 : 16, NR: N >= 16384 ? 4 : 2 });
  const TPR = shuffles(ctx) ? Math.min(t.TPR, ctx.features.subgroupMinSize) : t.TPR;
  return { TPR, NR: Math.max(1, Math.min(4, t.NR)) };
}
