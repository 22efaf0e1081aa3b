// Int8 weights: decode GEMV (M = 1, K = 768) for GPT-2's output widths, q8_0 int8 against our f32
// GEMV on the same [N, K] layout, in GPU time and GB/s (the bytes each must read), plus the weight
// memory of GPT-2 124M's linear layers in each format.
import { quantLayout, type Engine } from 'webgpu-nlp';
import { gpuTimeRunner, noise } from './plan-runner';
import type { BenchCase, Runner, Suite } from './types';

const K = 768;

async function f32Gemv(engine: Engine, N: number): Promise<Runner> {
  const g = engine.graph(`gemv f32 N=${N}`);
  const y = g.matmul(g.constant('x', noise(K, 1), [1, K]), g.constant('w', noise(N * K, 2), [N, K]), { transposeB: true });
  return gpuTimeRunner(engine, await g.compile({ y }));
}

async function int8Gemv(engine: Engine, N: number, dot4 = false, scheme: 'q8_0' | 'f16' = 'q8_0'): Promise<Runner | null> {
  if (dot4 && !engine.features.packedDot4) return null;
  const w = await engine.quantize(noise(N * K, 2), { K, N, layout: 'NK', scheme, label: `w${N}` });
  const g = engine.graph(`gemv ${scheme} N=${N}`);
  const y = g.dequantMatmul(g.constant('x', noise(K, 1), [1, K]), w, { dot4 });
  const r = gpuTimeRunner(engine, await g.compile({ y }));
  return {
    ...r,
    dispose: () => {
      r.dispose();
      w.dispose();
    },
    info: { weightBytes: w.byteLength },
  };
}

export const int8Suite: Suite = {
  name: 'int8',
  description: 'Decode GEMV with q8_0 int8 and f16 (packed halves) weights against f32, K = 768',
  cases({ quick }) {
    return (quick ? [768, 3072] : [768, 2304, 3072, 50257]).map((N): BenchCase => {
      const l = quantLayout('q8_0', K, N);
      return {
        kernel: 'decode GEMV (K=768)',
        size: `N=${N}`,
        flops: 2 * K * N,
        // Ours is int8: packed weights, scales, x and y. The f32 variant's GB/s in the table uses this
        // same count, so compare the two by time (the ratio column).
        bytes: l.N * l.rowWords * 4 + l.N * l.blocks * 4 + 4 * (K + N),
        variants: [
          { name: 'ours', setup: ({ engine }) => int8Gemv(engine, N) },
          { name: 'f32', setup: ({ engine }) => f32Gemv(engine, N) },
          { name: 'int8 dp4a', setup: ({ engine }) => int8Gemv(engine, N, true) },
          { name: 'f16', setup: ({ engine }) => int8Gemv(engine, N, false, 'f16') },
        ],
      };
    });
  },
};

/** Bytes of GPT-2 124M's linear-layer weights: f32 against int8 (packed + scales). */
export function gpt2LinearBytes(scheme: 'q8_0' | 'per-channel'): { f32: number; int8: number } {
  const C = 768;
  const shapes = [
    [C, 3 * C],
    [C, C],
    [C, 4 * C],
    [4 * C, C],
  ];
  let f32 = 0;
  let int8 = 0;
  for (const [k, n] of shapes) {
    const l = quantLayout(scheme, k, n);
    f32 += 12 * 4 * k * n;
    int8 += 12 * 4 * (l.N * l.rowWords + l.N * l.blocks);
  }
  return { f32, int8 };
}
