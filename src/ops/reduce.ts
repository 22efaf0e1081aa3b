// Kernels that reduce across a workgroup are built with one of two libraries: subgroup operations
// where the adapter has `subgroups` (shaders/lib/reduce_subgroup.wgsl), a workgroup-memory tree
// otherwise (shaders/lib/reduce.wgsl). The choice is made per device, never per shape.
import shared from '../../shaders/lib/reduce.wgsl?raw';
import subgroup from '../../shaders/lib/reduce_subgroup.wgsl?raw';
import type { ShaderSource } from '../gpu/pipeline-cache';
import type { KernelContext } from './types';

export function withReduce(name: string, kernel: string): (ctx: KernelContext) => ShaderSource {
  const plain = { name, code: shared + kernel };
  const fast = { name: `${name}+subgroups`, code: subgroup + kernel };
  return (ctx) => (ctx.features.subgroups ? fast : plain);
}
