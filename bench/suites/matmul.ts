// matmul: square sizes and GPT-2's linear-layer shapes (K = 768; N = 768, 2304, 3072 for M = 1, 16,
// 128), plus the transposed-weight variant. Ours (tiled) against the naive kernel and TF.js matMul,
// each timed from call to read-back of the product.
import type { Engine } from 'webgpu-nlp';
import { noise } from './plan-runner';
import type { BenchCase, Runner, Suite, Variant } from './types';

/** Inputs in [-0.5, 0.5). */
const data = (n: number, seed: number) => noise(n, seed, 0.5);

async function planRunner(
  engine: Engine,
  M: number,
  K: number,
  N: number,
  op: 'matmul' | 'matmul_naive',
  transposeB: boolean,
): Promise<Runner> {
  const g = engine.graph(`bench ${op}`);
  const a = g.constant('a', data(M * K, 1), [M, K]);
  const b = g.constant('b', data(K * N, 2), transposeB ? [N, K] : [K, N]);
  const y = op === 'matmul' ? g.matmul(a, b, { transposeB }) : g.matmulNaive(a, b);
  const plan = await g.compile({ y });
  return { run: () => plan.run({}), dispose: () => plan.dispose() };
}

export function matmulVariants(M: number, K: number, N: number, transposeB: boolean): Variant[] {
  const variants: Variant[] = [{ name: 'ours', setup: ({ engine }) => planRunner(engine, M, K, N, 'matmul', transposeB) }];
  if (!transposeB) variants.push({ name: 'naive', setup: ({ engine }) => planRunner(engine, M, K, N, 'matmul_naive', false) });
  variants.push({
    name: 'tfjs',
    async setup({ tf }) {
      if (!tf) return null;
      const a = tf.tensor2d(data(M * K, 1), [M, K]);
      const b = tf.tensor2d(data(K * N, 2), transposeB ? [N, K] : [K, N]);
      return {
        async run() {
          const c = tf.matMul(a, b, false, transposeB);
          await c.data();
          c.dispose();
        },
        dispose() {
          a.dispose();
          b.dispose();
        },
      };
    },
  });
  return variants;
}

function matmulCase(M: number, K: number, N: number, transposeB = false): BenchCase {
  return {
    kernel: transposeB ? 'matmul (B transposed)' : 'matmul',
    size: `${M}x${K}x${N}`,
    flops: 2 * M * N * K,
    bytes: 4 * (M * K + K * N + M * N),
    variants: matmulVariants(M, K, N, transposeB),
  };
}

export const matmulSuite: Suite = {
  name: 'matmul',
  description: 'Tiled matmul against the naive kernel and TensorFlow.js, read-back included',
  cases({ quick }) {
    const cases: BenchCase[] = [];
    for (const n of quick ? [256] : [256, 512, 1024]) cases.push(matmulCase(n, n, n));
    for (const M of quick ? [16] : [1, 16, 128]) for (const N of quick ? [768] : [768, 2304, 3072]) cases.push(matmulCase(M, 768, N));
    cases.push(matmulCase(quick ? 16 : 128, 768, quick ? 768 : 2304, true));
    return cases;
  },
};
