// Fused attention (prefill) and split decode attention against the dense float64 reference: odd
// sequence lengths, causal and not, every supported head dim, and a cache length fed per run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/index';
import { f16ToF32, f32ToF16 } from '../../src/gpu/tensor';
import { attentionReference } from '../../src/ops/attention_score';
import { sparseReference } from '../../src/ops/sparse_attention';
import { slidingLayout } from '../../src/index';
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
        expectClose(gpu, attentionReference(f64(q), rep(k), rep(v), { H, T, S: T, D, causal }), TOL, `GQA attention ${causal}`);
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
        const ref = attentionReference(f64(feeds.q), f64(feeds.k), f64(feeds.v), { H, T: 1, S: maxLen, D, qOffset: 0, length: len });
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
        attentionReference(f64(feeds.q), rep(feeds.k), rep(feeds.v), { H, T: 1, S: maxLen, D, qOffset: 0, length: len }),
        TOL,
        `GQA decode ${len}`,
      );
    }
    plan.dispose();
  });

  it('caches of packed halves (f16 KV cache): dense and block-sparse decode read them as the f16 values they hold', async () => {
    const [H, KVH, S, D] = [4, 2, 50, 64];
    const kf = randn(KVH * S * D, 21);
    const vf = randn(KVH * S * D, 22);
    // Packed two halves per word, as the cache holds them; the reference reads the rounded values.
    const pack = (x: Float32Array) =>
      Uint32Array.from({ length: x.length / 2 }, (_, i) => f32ToF16(x[2 * i]) | (f32ToF16(x[2 * i + 1]) << 16));
    const round = (x: Float32Array) => Float64Array.from(x, (v) => f16ToF32(f32ToF16(v)));
    const kt = engine.tensor(pack(kf), [KVH, S, D], 'k16', 'f16');
    const vt = engine.tensor(pack(vf), [KVH, S, D], 'v16', 'f16');
    const layout = slidingLayout(S, { blockSize: 16, window: 20, causal: true });
    const g = engine.graph('f16 kv');
    const q = g.input('q', [H, 1, D]);
    const [k, v] = [g.constant('k16', kt), g.constant('v16', vt)];
    const len = g.scalar('len');
    const plan = await g.compile({
      dense: g.decodeAttention(q, k, v, { length: len, chunk: 16 }),
      sparse: g.sparseDecodeAttention(q, k, v, layout, { length: len }),
    });
    const qd = randn(H * D, 23);
    for (const len of [1, 29, 50]) {
      plan.poison();
      const out = await plan.run({ q: qd, len });
      const want = attentionReference(
        f64(qd),
        repeatKV(Float32Array.from(round(kf)), H, KVH, S * D),
        repeatKV(Float32Array.from(round(vf)), H, KVH, S * D),
        { H, T: 1, S, D, qOffset: 0, length: len },
      );
      expectClose(out.dense, want, TOL, `f16 cache dense decode len ${len}`);
      const wantSparse = sparseReference(f64(qd), round(kf), round(vf), {
        H,
        T: 1,
        S,
        D,
        layout,
        queryPos: () => len - 1,
        length: len,
        group: H / KVH,
      });
      expectClose(out.sparse, wantSparse, TOL, `f16 cache sparse decode len ${len}`);
    }
    plan.dispose();
    kt.dispose();
    vt.dispose();
  });

  it('bad heads: KV heads that do not divide the query heads are named', () => {
    const g = engine.graph('bad');
    expect(() => g.attention(g.input('q', [6, 3, 32]), g.input('k', [4, 3, 32]), g.input('v', [4, 3, 32]), { causal: true })).toThrow(
      /attention: 4 KV heads must divide 6 query heads/,
    );
  });
});
