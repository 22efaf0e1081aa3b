// Fused attention (prefill) and split decode attention against the dense float64 reference: odd
// sequence lengths, causal and not, every supported head dim, and a cache length fed per run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/index';
import { f16ToF32, f32ToF16 } from '../../src/gpu/tensor';
import { alibiSlopes, attentionReference } from '../../src/ops/attention_score';
import { sparseReference } from '../../src/ops/sparse_attention';
import { slidingLayout } from '../../src/index';
import { createTestEngine } from '../helpers/engine';
import { expectClose, f64, maxAbs, randn } from '../helpers/numeric';
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

// The score hook's features (shaders/lib/score.wgsl, src/ops/attention_score.ts): each against the
// float64 reference, and the reference itself against an independent construction of the same thing.
describe('attention score hook: packed batches, key padding, ALiBi, soft-cap, window, head dim 256', () => {
  /** Rows [from, to) of every head of a [H, n, D] tensor, as [H, to - from, D]. */
  const rows = (x: ArrayLike<number>, H: number, n: number, D: number, from: number, to: number) => {
    const out = new Float64Array(H * (to - from) * D);
    for (let h = 0; h < H; h++) out.set(Array.from(x).slice((h * n + from) * D, (h * n + to) * D), h * (to - from) * D);
    return out;
  };

  for (const causal of [false, true]) {
    it(`packed variable-length batch of 3, 9 and 17 tokens (${causal ? 'causal' : 'bidirectional'}), GQA 6 on 2 heads`, async () => {
      const [H, KVH, D] = [6, 2, 32];
      const lens = [3, 9, 17];
      const cu = Uint32Array.from([0, 3, 12, 29]);
      const T = 29;
      const [q, k, v] = [randn(H * T * D, 31), randn(KVH * T * D, 32), randn(KVH * T * D, 33)];
      const { gpu, ref } = await runOp(engine, {
        op: 'attention',
        inputs: [
          { shape: [H, T, D], data: q },
          { shape: [KVH, T, D], data: k },
          { shape: [KVH, T, D], data: v },
          { shape: [4], data: cu },
        ],
        attrs: { causal, cu_seqlens: true },
      });
      expectClose(gpu, ref, TOL, 'varlen attention');
      // The truth: each sequence alone through plain attention.
      lens.forEach((n, i) => {
        const [a, b] = [cu[i], cu[i + 1]];
        const one = attentionReference(rows(q, H, T, D, a, b), rows(k, KVH, T, D, a, b), rows(v, KVH, T, D, a, b), {
          H,
          T: n,
          S: n,
          D,
          causal,
          group: H / KVH,
        });
        expectClose(rows(gpu, H, T, D, a, b), one, TOL, `varlen sequence ${i} (${n} tokens) alone`);
      });
    });
  }

  it('packed batch across workgroup edges: 70 rows in sequences of 1, 64, 5 with a 128-dim head', async () => {
    const [H, D, T] = [2, 128, 70];
    const { gpu, ref } = await runOp(engine, {
      op: 'attention',
      inputs: [
        { shape: [H, T, D], data: randn(H * T * D, 41) },
        { shape: [H, T, D], data: randn(H * T * D, 42) },
        { shape: [H, T, D], data: randn(H * T * D, 43) },
        { shape: [4], data: Uint32Array.from([0, 1, 65, 70]) },
      ],
      attrs: { causal: true, cu_seqlens: true },
    });
    expectClose(gpu, ref, TOL, 'varlen across workgroups');
  });

  for (const causal of [false, true]) {
    it(`key padding: a batch of 3 right- and left-padded rows folded into 3 × 4 heads (${causal ? 'causal' : 'bidirectional'})`, async () => {
      const [B, Hb, T, D] = [3, 4, 23, 64];
      const H = B * Hb;
      const mask = new Uint32Array(B * T);
      const real = [
        [0, 23],
        [0, 11],
        [5, 23], // left padding
      ];
      for (const [r, [a, b]] of real.entries()) mask.fill(1, r * T + a, r * T + b);
      const [q, k, v] = [randn(H * T * D, 51), randn(H * T * D, 52), randn(H * T * D, 53)];
      const { gpu, ref } = await runOp(engine, {
        op: 'attention',
        inputs: [
          { shape: [H, T, D], data: q },
          { shape: [H, T, D], data: k },
          { shape: [H, T, D], data: v },
          { shape: [B, T], data: mask },
        ],
        attrs: { causal, key_mask: true },
      });
      expectClose(gpu, ref, TOL, 'key-padded attention');
      // The truth for a right-padded row without the causal mask: its real keys alone, every query.
      if (!causal) {
        const [r, n] = [1, 11];
        const heads = (x: Float32Array) => x.subarray(r * Hb * T * D, (r + 1) * Hb * T * D);
        const want = attentionReference(f64(heads(q)), rows(heads(k), Hb, T, D, 0, n), rows(heads(v), Hb, T, D, 0, n), {
          H: Hb,
          T,
          S: n,
          D,
          qOffset: 0,
        });
        expectClose(heads(gpu as Float32Array), want, TOL, 'padded row against its unpadded keys');
      }
    });
  }

  it('ALiBi on 12 heads (not a power of two), causal and bidirectional, with slopes equal to BLOOM’s', async () => {
    // BLOOM's build_alibi_tensor: slopes of the closest power of two, then every other slope of twice that.
    const H = 12;
    const closest = 2 ** Math.floor(Math.log2(H));
    const base = 2 ** -(2 ** -(Math.log2(closest) - 3));
    const extra = 2 ** -(2 ** -(Math.log2(2 * closest) - 3));
    const bloom = [
      ...Array.from({ length: closest }, (_, i) => base ** (i + 1)),
      ...Array.from({ length: H - closest }, (_, i) => extra ** (2 * i + 1)),
    ];
    expectClose(alibiSlopes(H, 8), Float64Array.from(bloom), { atol: 0, rtol: 1e-12 }, 'ALiBi slopes');
    const [T, D] = [37, 32];
    for (const causal of [true, false]) {
      const { gpu, ref } = await runOp(engine, {
        op: 'attention',
        inputs: [
          { shape: [H, T, D], data: randn(H * T * D, 61) },
          { shape: [H, T, D], data: randn(H * T * D, 62) },
          { shape: [H, T, D], data: randn(H * T * D, 63) },
        ],
        attrs: { causal, alibi: 8 },
      });
      expectClose(gpu, ref, TOL, `ALiBi ${causal}`);
    }
  });

  it('soft-capping (Gemma 2) on large scores, with an explicit scale, and a sliding window', async () => {
    const [H, T, D] = [2, 45, 64];
    const inputs = [
      { shape: [H, T, D], data: randn(H * T * D, 71, 4) }, // scores of tens: the cap bites
      { shape: [H, T, D], data: randn(H * T * D, 72, 4) },
      { shape: [H, T, D], data: randn(H * T * D, 73) },
    ];
    const capped = await runOp(engine, { op: 'attention', inputs, attrs: { causal: true, softcap: 5, scale: 0.2 } });
    expectClose(capped.gpu, capped.ref, TOL, 'soft-capped attention');
    const plain = await runOp(engine, { op: 'attention', inputs, attrs: { causal: true, scale: 0.2 } });
    expect(maxAbs(capped.gpu.map((x, i) => x - plain.gpu[i]))).toBeGreaterThan(0.1); // the cap changed the result
    for (const causal of [true, false]) {
      const windowed = await runOp(engine, { op: 'attention', inputs, attrs: { causal, window: 7, softcap: 30 } });
      expectClose(windowed.gpu, windowed.ref, TOL, `window 7 ${causal}`);
    }
    // The window's truth (causal): a query sees its own key and the 6 before it, as Mistral's mask.
    const one = attentionReference(f64(inputs[0].data), f64(inputs[1].data), f64(inputs[2].data), {
      H,
      T,
      S: T,
      D,
      causal: true,
      window: 7,
    });
    const t = 30;
    const last7 = attentionReference(
      rows(inputs[0].data, H, T, D, t, t + 1),
      rows(inputs[1].data, H, T, D, t - 6, t + 1),
      rows(inputs[2].data, H, T, D, t - 6, t + 1),
      { H, T: 1, S: 7, D },
    );
    expectClose(rows(one, H, T, D, t, t + 1), last7, { atol: 1e-12, rtol: 1e-12 }, 'window reference');
  });

  it('head dim 256 (Gemma): causal prefill with soft-capping, GQA', async () => {
    const [H, KVH, T, D] = [4, 2, 19, 256];
    for (const causal of [true]) {
      const { gpu, ref } = await runOp(engine, {
        op: 'attention',
        inputs: [
          { shape: [H, T, D], data: randn(H * T * D, 81) },
          { shape: [KVH, T, D], data: randn(KVH * T * D, 82) },
          { shape: [KVH, T, D], data: randn(KVH * T * D, 83) },
        ],
        attrs: { causal, softcap: 50 },
      });
      expectClose(gpu, ref, TOL, `D=256 ${causal}`);
    }
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

  it('bad score modifiers and masks are named', () => {
    const g = engine.graph('bad hook');
    const [q, k, v] = ['q', 'k', 'v'].map((n) => g.input(n, [4, 6, 32]));
    expect(() => g.attention(q, k, v, { softcap: -1 })).toThrow(/attention: softcap -1 must be a positive number/);
    expect(() => g.attention(q, k, v, { window: 0.5 })).toThrow(/attention: window 0.5 must be a positive integer/);
    expect(() => g.attention(q, k, v, { keyMask: g.input('m', [3, 6], 'u32') })).toThrow(
      /key_mask must be u32 \[B, 6\] with B dividing the 4 query heads/,
    );
    expect(() => g.attention(q, k, v, { cuSeqlens: g.input('c', [3], 'f32') })).toThrow(/cu_seqlens must be u32/);
    expect(() => g.attention(g.input('q5', [4, 5, 32]), k, v, { cuSeqlens: g.input('c2', [3], 'u32') })).toThrow(
      /a packed batch needs as many queries as keys/,
    );
    expect(() => g.attention(g.input('q6', [4, 6, 260]), g.input('k6', [4, 6, 260]), g.input('v6', [4, 6, 260]))).toThrow(
      /head dim 260 is not supported \(a multiple of 4, at most 256\)/,
    );
  });
});
