// engine.quantize(): f32 weights to int8 with absmax scales, on the GPU (one plan of the quantize ops)
// or on the CPU with the same rules. A graph-level helper: it builds and runs a plan.
import { ArgumentError, ShapeError } from '../errors';
import type { GPUContext } from '../gpu/engine';
import {
  GPU_BLOCK_SCHEMES,
  QuantizedTensor,
  packedShape,
  quantLayout,
  quantizeCPU,
  type QuantAttrs,
  type QuantScheme,
} from '../ops/quantize';
import { Graph } from './graph';

export interface QuantizeOptions {
  /** [K, N] of the matmul the weights serve (x [M, K] · W → [M, N]). */
  K: number;
  N: number;
  scheme?: QuantScheme;
  /** How `weights` is laid out: 'KN' ([K, N], Conv1D, the default) or 'NK' ([N, K], nn.Linear). */
  layout?: 'KN' | 'NK';
  /**
   * Where to quantize. Default: the GPU, or the CPU (same rules) when the f32 weights would not fit one
   * storage binding — the packed result is 4× smaller and may well fit.
   */
  on?: 'gpu' | 'cpu';
  label?: string;
}

/** Quantizes f32 weights to int8 with absmax scales, on the GPU (one plan) or the CPU. */
export async function quantize(engine: GPUContext, weights: Float32Array, o: QuantizeOptions): Promise<QuantizedTensor> {
  if (typeof o !== 'object' || o === null) throw new ArgumentError('quantize: options { K, N } are required');
  const scheme = o.scheme ?? 'q8_0';
  const layout = o.layout ?? 'KN';
  quantLayout(scheme, o.K, o.N); // names quantize, K and N when they are not positive integers
  if (layout !== 'KN' && layout !== 'NK') throw new ArgumentError(`quantize: layout must be 'KN' or 'NK', got ${JSON.stringify(layout)}`);
  if (o.on !== undefined && o.on !== 'gpu' && o.on !== 'cpu')
    throw new ArgumentError(`quantize: on must be 'gpu' or 'cpu', got ${JSON.stringify(o.on)}`);
  if (!(weights instanceof Float32Array)) throw new ShapeError('quantize: weights must be a Float32Array');
  if (weights.length !== o.K * o.N) throw new ShapeError(`quantize: ${weights.length} weights do not fill K ${o.K} × N ${o.N}`);
  // q6_k and the blocks GPU_BLOCK_SCHEMES lacks are written on the CPU only; the others on the GPU unless
  // the f32 weights exceed one binding.
  const gpuCan = scheme === 'q8_0' || scheme === 'per-channel' || GPU_BLOCK_SCHEMES.includes(scheme);
  const on = !gpuCan ? 'cpu' : (o.on ?? (4 * weights.length > engine.maxBindingSize ? 'cpu' : 'gpu'));
  if (on === 'cpu') return QuantizedTensor.upload(engine, quantizeCPU(weights, o.K, o.N, scheme, layout), o.label);
  const attrs: QuantAttrs = { scheme, K: o.K, N: o.N, kn: layout === 'KN' };
  if (GPU_BLOCK_SCHEMES.includes(scheme)) return quantizeBlocksOnGPU(engine, weights, attrs, o.label ?? `${scheme} weights`);
  const g = new Graph(engine, `quantize ${o.label ?? ''}`);
  const w = g.input('w', layout === 'KN' ? [o.K, o.N] : [o.N, o.K]);
  const scales = g.op('quantize_scales', [w], attrs);
  const q = g.op('quantize_pack', [w, scales], attrs);
  const plan = await g.compile({ q, scales });
  try {
    const out = await plan.runToGPU({ w: weights });
    // Copied on the GPU into tensors the caller owns; the plan's buffers go back to the pool.
    const l = quantLayout(scheme, o.K, o.N);
    const label = o.label ?? 'int8 weights';
    const result = new QuantizedTensor(
      l,
      engine.empty([l.N, l.rowWords], 'u32', `${label}.q`),
      engine.empty([l.N, l.blocks], 'f32', `${label}.scales`),
    );
    try {
      await engine.scoped(`quantize ${label}`, () => {
        const enc = engine.device.createCommandEncoder({ label: `quantize ${label}` });
        enc.copyBufferToBuffer(out.q.buffer, 0, result.qweight.buffer, 0, result.qweight.buffer.size);
        enc.copyBufferToBuffer(out.scales.buffer, 0, result.scales!.buffer, 0, result.scales!.buffer.size);
        engine.device.queue.submit([enc.finish()]);
      });
    } catch (e) {
      result.dispose();
      throw e;
    }
    return result;
  } finally {
    plan.dispose();
  }
}

/** The 16-bit and 4-bit schemes on the GPU: one plan of quantize_blocks, its words copied out. */
async function quantizeBlocksOnGPU(engine: GPUContext, weights: Float32Array, attrs: QuantAttrs, label: string): Promise<QuantizedTensor> {
  const g = new Graph(engine, `quantize ${label}`);
  const w = g.input('w', attrs.kn ? [attrs.K, attrs.N] : [attrs.N, attrs.K]);
  const plan = await g.compile({ q: g.op('quantize_blocks', [w], attrs) });
  try {
    const out = await plan.runToGPU({ w: weights });
    const l = quantLayout(attrs.scheme, attrs.K, attrs.N);
    const qweight = engine.empty(packedShape(l), 'u32', `${label}.q`);
    try {
      await engine.scoped(`quantize ${label}`, () => {
        const enc = engine.device.createCommandEncoder({ label: `quantize ${label}` });
        enc.copyBufferToBuffer(out.q.buffer, 0, qweight.buffer, 0, qweight.buffer.size);
        engine.device.queue.submit([enc.finish()]);
      });
    } catch (e) {
      qweight.dispose();
      throw e;
    }
    return new QuantizedTensor(l, qweight, null);
  } finally {
    plan.dispose();
  }
}
