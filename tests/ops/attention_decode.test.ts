// Split decode attention (attention_decode, then attention_combine) against the dense float64
// reference: a cache length fed per run, grouped-query heads, caches of packed halves, and the score
// hook's features with key padding.
import { afterAll, beforeAll, it } from 'vitest';
import type { Engine } from '../../src/index';
import { f16ToF32, f32ToF16 } from '../../src/gpu/tensor';
import { attentionReference } from '../../src/ops/attention_score';
import { sparseReference } from '../../src/ops/sparse_attention';
import { slidingLayout } from '../../src/index';
import { createTestEngine } from '../helpers/engine';
import { expectClose, f64, randn } from '../helpers/numeric';
import { describeOp } from '../helpers/conformance';
import { repeatKV } from '../helpers/attention';

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

// Softmax-weighted sums of O(1) values accumulated in f32 over ≤ 200 keys.
const TOL = { atol: 2e-5, rtol: 2e-5 };

describeOp(['attention_decode', 'attention_combine'], 'split decode attention, then the combine', () => {
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

  it('decode with key padding, ALiBi, soft-cap and a window, at head dims 80 and 256, from a per-run length', async () => {
    for (const [B, Hb, KVHb, maxLen, D] of [
      [2, 3, 3, 45, 80],
      [1, 4, 2, 70, 256],
    ] as const) {
      const [H, KVH] = [B * Hb, B * KVHb];
      const mask = new Uint32Array(B * maxLen).fill(1);
      mask.fill(0, 3, 9); // row 0: a gap of padding
      if (B > 1) mask.fill(0, maxLen + 20); // row 1: right padding after 20 keys
      const feeds = { q: randn(H * D, 91), k: randn(KVH * maxLen * D, 92), v: randn(KVH * maxLen * D, 93), mask };
      for (const mods of [{ alibi: 8 }, { softcap: 3, window: 16 }, { alibi: 4, window: 30 }]) {
        const g = engine.graph('decode hook');
        const y = g.decodeAttention(g.input('q', [H, 1, D]), g.input('k', [KVH, maxLen, D]), g.input('v', [KVH, maxLen, D]), {
          length: g.scalar('len'),
          chunk: 16,
          keyMask: g.input('mask', [B, maxLen], 'u32'),
          ...mods,
        });
        const plan = await g.compile({ y });
        for (const len of [1, 12, maxLen]) {
          plan.poison();
          const { y: out } = await plan.run({ ...feeds, len });
          const want = attentionReference(f64(feeds.q), f64(feeds.k), f64(feeds.v), {
            H,
            T: 1,
            S: maxLen,
            D,
            qOffset: len - 1,
            length: len,
            causal: true,
            group: Hb / KVHb,
            keyMask: mask,
            ...mods,
          });
          expectClose(out, want, TOL, `decode ${JSON.stringify(mods)} D=${D} len=${len}`);
        }
        plan.dispose();
      }
    }
  });
});
