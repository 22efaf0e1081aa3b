// Kernels that reduce across a workgroup import lib/reduce: a workgroup-memory tree
// (shaders/lib/reduce.wgsl), or subgroup operations where the adapter has `subgroups`
// (shaders/lib/reduce_subgroup.wgsl, same functions). The choice is made per device, never per shape.
import { compose, type ShaderSource } from '../wgsl/compose';
import type { KernelContext, ShaderVariant } from './types';

/** shaders/<name>.wgsl for a device (lib/reduce or lib/reduce_subgroup) and a kernel call's variant. */
export function withReduce(name: string): (ctx: KernelContext, variant?: ShaderVariant) => ShaderSource {
  return (ctx, variant) => {
    const own = variant?.aliases ?? {};
    const base = `${name}${variant?.suffix ?? ''}`;
    return ctx.features.subgroups
      ? compose(name, { aliases: { ...own, 'lib/reduce': 'lib/reduce_subgroup' }, name: `${base}+subgroups` })
      : compose(name, { aliases: own, name: base });
  };
}
