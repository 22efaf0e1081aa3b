// Block-sparse attention against our dense fused kernel (both non-causal, 12 heads of 64), at
// densities around 5%, 10% and 25% (random layouts with a fixed number of key blocks per query
// block, blocks of 64). 'ours' is the 10% layout; the ratio column against 'dense' is the speed-up.
// The smaller lengths locate the crossover below which dense is faster.
import { randomLayout, type Engine } from 'webgpu-nlp';
import { gpuTimeRunner, noise } from './plan-runner';
import type { BenchCase, Runner, Suite } from './types';

const H = 12;
const D = 64;
const BS = 64;

async function runner(engine: Engine, T: number, density: number | null): Promise<Runner> {
  const g = engine.graph(`attention T=${T} ${density === null ? 'dense' : `sparse ${density}`}`);
  const [q, k, v] = [1, 2, 3].map((seed, i) => g.constant('qkv'[i], noise(H * T * D, seed), [H, T, D]));
  const nb = Math.ceil(T / BS);
  const layout = density === null ? null : randomLayout(T, { blockSize: BS, perRow: Math.max(1, Math.round(density * nb)), seed: 7 });
  const y = layout ? g.sparseAttention(q, k, v, layout) : g.attention(q, k, v, { causal: false });
  const r = gpuTimeRunner(engine, await g.compile({ y }));
  if (layout) r.info = { ...r.info, density: layout.density };
  return r;
}

export const sparseSuite: Suite = {
  name: 'sparse',
  description: 'Block-sparse attention (5/10/25% density) against dense fused attention',
  cases({ quick }) {
    return (quick ? [256, 512] : [256, 512, 1024, 2048, 4096]).map(
      (T): BenchCase => ({
        kernel: 'sparse attention (12x64, 10% = ours)',
        size: `T=${T}`,
        flops: 4 * H * T * T * D * 0.1,
        bytes: 4 * 4 * H * T * D,
        variants: [
          { name: 'ours', setup: ({ engine }) => runner(engine, T, 0.1) },
          { name: 'sparse 5%', setup: ({ engine }) => runner(engine, T, 0.05) },
          { name: 'sparse 25%', setup: ({ engine }) => runner(engine, T, 0.25) },
          { name: 'dense', setup: ({ engine }) => runner(engine, T, null) },
        ],
      }),
    );
  },
};
