// Fused attention (prefill) and split decode attention against the dense float64 reference: odd
// sequence lengths, causal and not, every supported head dim, and a cache length fed per run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/index';
import { attentionReference } from '../../src/ops/attention';
import { createTestEngine } from '../helpers/engine';
import { expectClose, f64, randn } from '../helpers/numeric';
import { runOp } from '../helpers/ops';

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

// Softmax-weighted sums of O(1) values accumulated in f32 over ≤ 200 keys.
const TOL = { atol: 2e-5, rtol: 2e-5 };

/** KV heads [KVH, n] each repeated H / KVH times → [H, n] (Hugging Face's repeat_kv). */
function repeatKV(t: Float32Array, H: number, KVH: number, n: number): Float64Array {
  const out = new Float64Array(H * n);
  for (let h = 0; h < H; h++) {
    const kh = Math.floor(h / (H / KVH));
    out.set(t.subarray(kh * n, (kh + 1) * n), h * n);
  }
  return out;
}

describe('attention (fused prefill)', () => {
  const cases: [number, number, number, boolean][] = [
    // heads, T, D, causal
    [1, 1, 64, true],
    [2, 7, 64, true],
    [2, 77, 32, true],
    [1, 200, 80, true],
    [1, 77, 128, true],
    [3, 7, 32, false],
    [2, 77, 64, false],
    [1, 200, 128, false],
  ];
  for (const [H, T, D, causal] of cases) {
    it(`H=${H} T=${T} D=${D} ${causal ? 'causal' : 'full'}`, async () => {
      const n = H * T * D;
      const { gpu, ref } = await runOp(engine, {
        op: 'attention',
        inputs: [
          { shape: [H, T, D], data: randn(n, T) },
          { shape: [H, T, D], data: randn(n, T + 1) },
          { shape: [H, T, D], data: randn(n, T + 2) },
        ],
        attrs: { causal },
      });
      expectClose(gpu, ref, TOL, `attention H=${H} T=${T} D=${D}`);
    });
  }

  for (const [H, KVH, T, D] of [
    [6, 2, 45, 64],
    [9, 3, 19, 32],
    [4, 1, 33, 128],
  ] as const) {
    it(`grouped-query: ${H} query heads on ${KVH} KV heads, T=${T} D=${D}, causal and full`, async () => {
      const [q, k, v] = [randn(H * T * D, 4), randn(KVH * T * D, 5), randn(KVH * T * D, 6)];
      const rep = (t: Float32Array) => repeatKV(t, H, KVH, T * D); // the truth: HF's repeat_kv, then multi-head
      for (const causal of [true, false]) {
        const { gpu } = await runOp(engine, {
          op: 'attention',
          inputs: [
            { shape: [H, T, D], data: q },
            { shape: [KVH, T, D], data: k },
            { shape: [KVH, T, D], data: v },
          ],
          attrs: { causal },
        });
        expectClose(gpu, attentionReference(f64(q), rep(k), rep(v), H, T, T, D, causal, 0), TOL, `GQA attention ${causal}`);
      }
    });
  }

  it('queries that are the last T of S keys (causal with an offset)', async () => {
    const [H, T, S, D] = [2, 5, 37, 64];
    const { gpu, ref } = await runOp(engine, {
      op: 'attention',
      inputs: [
        { shape: [H, T, D], data: randn(H * T * D, 1) },
        { shape: [H, S, D], data: randn(H * S * D, 2) },
        { shape: [H, S, D], data: randn(H * S * D, 3) },
      ],
      attrs: { causal: true },
    });
    expectClose(gpu, ref, TOL, 'attention with offset');
  });
});

describe('decode attention (split + combine)', () => {
  for (const [H, maxLen, D, chunk] of [
    [2, 50, 64, 16],
    [3, 300, 32, 64],
    [1, 129, 128, undefined],
  ] as const) {
    it(`H=${H} cache ${maxLen} D=${D}: every length read from a per-run scalar`, async () => {
      const g = engine.graph('decode');
      const q = g.input('q', [H, 1, D]);
      const k = g.input('k', [H, maxLen, D]);
      const v = g.input('v', [H, maxLen, D]);
      const y = g.decodeAttention(q, k, v, { length: g.scalar('len'), chunk });
      const plan = await g.compile({ y });
      const feeds = { q: randn(H * D, 1), k: randn(H * maxLen * D, 2), v: randn(H * maxLen * D, 3) };
      for (const len of [1, 2, Math.floor(maxLen / 2) + 1, maxLen]) {
        plan.poison();
        const { y: out } = await plan.run({ ...feeds, len });
        const ref = attentionReference(f64(feeds.q), f64(feeds.k), f64(feeds.v), H, 1, maxLen, D, false, 0, len);
        expectClose(out, ref, TOL, `decode len=${len}`);
      }
      plan.dispose();
    });
  }

  it('grouped-query: 8 query heads on 2 KV heads of a cache, each against its own KV head', async () => {
    const [H, KVH, maxLen, D] = [8, 2, 70, 64];
    const g = engine.graph('gqa decode');
    const y = g.decodeAttention(g.input('q', [H, 1, D]), g.input('k', [KVH, maxLen, D]), g.input('v', [KVH, maxLen, D]), {
      length: g.scalar('len'),
      chunk: 16,
    });
    const plan = await g.compile({ y });
    const feeds = { q: randn(H * D, 7), k: randn(KVH * maxLen * D, 8), v: randn(KVH * maxLen * D, 9) };
    const rep = (t: Float32Array) => repeatKV(t, H, KVH, maxLen * D); // HF's repeat_kv, then multi-head attention
    for (const len of [1, 33, 70]) {
      plan.poison();
      const { y: out } = await plan.run({ ...feeds, len });
      expectClose(
        out,
        attentionReference(f64(feeds.q), rep(feeds.k), rep(feeds.v), H, 1, maxLen, D, false, 0, len),
        TOL,
        `GQA decode ${len}`,
      );
    }
    plan.dispose();
  });

  it('bad heads: KV heads that do not divide the query heads are named', () => {
    const g = engine.graph('bad');
    expect(() => g.attention(g.input('q', [6, 3, 32]), g.input('k', [4, 3, 32]), g.input('v', [4, 3, 32]), { causal: true })).toThrow(
      /attention: 4 KV heads must divide 6 query heads/,
    );
  });
});
