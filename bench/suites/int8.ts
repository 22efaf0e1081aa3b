// Packed weights: decode GEMV (M = 1) at K = 768 (GPT-2) and K = 2048 (Llama-3.2-1B's width) in every
// weight format, against our f32 GEMV on the same [N, K] layout. 'ours' is q4_k, the format of the files
// people download (Q4_K_M); each variant reports the bytes of its packed weights, the GB/s it reads them
// at, and (in the CLI) its speed relative to f32 measured in the same run.
import { quantLayout, type Engine, type QuantScheme } from 'webgpu-nlp';
import { median } from '../measure';
import { gpuTimeRunner, noise } from './plan-runner';
import type { BenchCase, Runner, Suite } from './types';

/**
 * A runner whose info carries the weight bytes, the GB/s at which the median run reads them, and the
 * fewest bytes a run must move (weights, x and y: `minBytes`, for the report's roofline line).
 */
function withWeightRate(r: Runner, weightBytes: number, K: number, N: number, dispose: () => void): Runner {
  const minBytes = weightBytes + 4 * (K + N);
  const times: number[] = [];
  const runner: Runner = {
    async run() {
      const ms = await r.run(); // gpuTimeRunner returns its GPU time
      if (typeof ms === 'number') {
        times.push(ms);
        runner.info = { weightBytes, weightGBps: weightBytes / median(times) / 1e6, minBytes };
      }
      return ms;
    },
    dispose: () => {
      r.dispose();
      dispose();
    },
    info: { weightBytes, minBytes },
  };
  return runner;
}

async function f32Gemv(engine: Engine, K: number, N: number): Promise<Runner> {
  const g = engine.graph(`gemv f32 K=${K} N=${N}`);
  const y = g.matmul(g.constant('x', noise(K, 1), [1, K]), g.constant('w', noise(N * K, 2), [N, K]), { transposeB: true });
  return withWeightRate(gpuTimeRunner(engine, await g.compile({ y })), 4 * N * K, K, N, () => {});
}

async function packedGemv(engine: Engine, K: number, N: number, scheme: QuantScheme, dot4 = false): Promise<Runner | null> {
  if (dot4 && !engine.features.packedDot4) return null;
  const w = await engine.quantize(noise(N * K, 2), { K, N, layout: 'NK', scheme, label: `w${N}` });
  const g = engine.graph(`gemv ${scheme} K=${K} N=${N}`);
  const y = g.dequantMatmul(g.constant('x', noise(K, 1), [1, K]), w, { dot4 });
  return withWeightRate(gpuTimeRunner(engine, await g.compile({ y })), w.byteLength, K, N, () => w.dispose());
}

/** [K, N] of the cases: GPT-2's widths and vocabulary at K = 768; a Llama-3.2-1B projection and MLP at 2048. */
function shapes(quick: boolean): [number, number][] {
  if (quick) return [768, 3072].map((N) => [768, N]);
  return [...[768, 2304, 3072, 50257].map((N): [number, number] => [768, N]), [2048, 2048], [2048, 8192]];
}

export const int8Suite: Suite = {
  name: 'int8',
  description: 'Decode GEMV with packed weights (q4_k as ours; q4_0, q6_k, q8_0 int8, f16) against f32, K = 768 and 2048',
  cases({ quick }) {
    return shapes(quick).map(([K, N]): BenchCase => {
      const l = quantLayout('q4_k', K, N);
      return {
        kernel: `decode GEMV (K=${K})`,
        size: `N=${N}`,
        flops: 2 * K * N,
        // Ours (q4_k): its blocks, x and y. Every variant's own weight bytes and rate are in its info.
        bytes: 4 * l.words + 4 * (K + N),
        variants: [
          { name: 'ours', setup: ({ engine }) => packedGemv(engine, K, N, 'q4_k') },
          { name: 'f32', setup: ({ engine }) => f32Gemv(engine, K, N) },
          { name: 'f16', setup: ({ engine }) => packedGemv(engine, K, N, 'f16') },
          { name: 'q8_0', setup: ({ engine }) => packedGemv(engine, K, N, 'q8_0') },
          { name: 'q8_0 dp4a', setup: ({ engine }) => packedGemv(engine, K, N, 'q8_0', true) },
          { name: 'q6_k', setup: ({ engine }) => packedGemv(engine, K, N, 'q6_k') },
          { name: 'q4_0', setup: ({ engine }) => packedGemv(engine, K, N, 'q4_0') },
        ],
      };
    });
  },
};
