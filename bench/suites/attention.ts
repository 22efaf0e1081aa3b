// Attention: the fused kernel against the unfused chain (matmul q·kᵀ, scale + causal mask, softmax,
// matmul with v; four dispatches and two [H, T, T] intermediates) at GPT-2's 12 heads of 64, in GPU
// time, with the bytes each plan allocates. Decode: split decode attention over a 1024-row cache.
import type { Engine } from 'webgpu-nlp';
import { gpuTimeRunner, noise } from './plan-runner';
import type { BenchCase, Suite } from './types';

const H = 12;
const D = 64;

function prefill(engine: Engine, T: number, fused: boolean) {
  const g = engine.graph(`attention ${fused ? 'fused' : 'unfused'} T=${T}`);
  const q = g.constant('q', noise(H * T * D, 1), [H, T, D]);
  const k = g.constant('k', noise(H * T * D, 2), [H, T, D]);
  const v = g.constant('v', noise(H * T * D, 3), [H, T, D]);
  const y = fused
    ? g.attention(q, k, v, { causal: true })
    : g.matmul(g.softmax(g.causalMask(g.matmul(q, k, { transposeB: true }), 1 / Math.sqrt(D))), v);
  return g.compile({ y }).then((plan) => gpuTimeRunner(engine, plan));
}

function decode(engine: Engine, L: number, fused: boolean) {
  const g = engine.graph(`decode attention ${fused ? 'split' : 'unfused'} L=${L}`);
  const q = g.constant('q', noise(H * D, 1), [H, 1, D]);
  const k = g.constant('k', noise(H * L * D, 2), [H, L, D]);
  const v = g.constant('v', noise(H * L * D, 3), [H, L, D]);
  const y = fused
    ? g.decodeAttention(q, k, v, { length: L })
    : g.matmul(g.softmax(g.causalMask(g.matmul(q, k, { transposeB: true }), 1 / Math.sqrt(D))), v);
  return g.compile({ y }).then((plan) => gpuTimeRunner(engine, plan));
}

export const attentionSuite: Suite = {
  name: 'attention',
  description: 'Fused causal attention against matmul + mask + softmax + matmul, and split decode attention',
  cases({ quick }) {
    const cases: BenchCase[] = [];
    for (const T of quick ? [128] : [256, 512, 1024]) {
      const pairs = (T * (T + 1)) / 2;
      cases.push({
        kernel: 'attention prefill (causal, 12x64)',
        size: `T=${T}`,
        flops: 4 * H * pairs * D,
        bytes: 4 * 4 * H * T * D,
        variants: [
          { name: 'ours', setup: ({ engine }) => prefill(engine, T, true) },
          { name: 'unfused', setup: ({ engine }) => prefill(engine, T, false) },
        ],
      });
    }
    for (const L of quick ? [256] : [1024]) {
      cases.push({
        kernel: 'attention decode (12x64)',
        size: `L=${L}`,
        flops: 4 * H * L * D,
        bytes: 4 * 2 * H * L * D,
        variants: [
          { name: 'ours', setup: ({ engine }) => decode(engine, L, true) },
          { name: 'unfused', setup: ({ engine }) => decode(engine, L, false) },
        ],
      });
    }
    return cases;
  },
};
