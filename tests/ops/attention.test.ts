// Fused attention (prefill) against the dense float64 reference: odd sequence lengths, causal and
// not, every supported head dim, grouped-query heads, and the score hook's features (packed batches,
// key padding, ALiBi, soft-cap, window, head dim 256), each also against an independent construction.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Engine } from '../../src/index';
import { alibiSlopes, attentionReference } from '../../src/ops/attention_score';
import { createTestEngine } from '../helpers/engine';
import { expectClose, f64, maxAbs, randn } from '../helpers/numeric';
import { runOp } from '../helpers/ops';
import { describeOp } from '../helpers/conformance';
import { repeatKV } from '../helpers/attention';

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

// Softmax-weighted sums of O(1) values accumulated in f32 over ≤ 200 keys.
const TOL = { atol: 2e-5, rtol: 2e-5 };

describeOp('attention', 'fused prefill', () => {
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

  it('an offset read from a per-run scalar: 7 queries continuing a KV cache of 45 rows (GQA), at offsets 0, 13 and 38', async () => {
    const [H, KVH, T, S, D] = [4, 2, 7, 45, 32];
    const g = engine.graph('attention at a scalar offset');
    const y = g.attention(g.input('q', [H, T, D]), g.input('k', [KVH, S, D]), g.input('v', [KVH, S, D]), {
      causal: true,
      qOffset: g.scalar('pos'),
    });
    const plan = await g.compile({ y });
    const feeds = { q: randn(H * T * D, 4), k: randn(KVH * S * D, 5), v: randn(KVH * S * D, 6) };
    for (const pos of [0, 13, S - T]) {
      plan.poison();
      const { y: out } = await plan.run({ ...feeds, pos });
      // Keys after the last query's position are never seen; the reference gets exactly those before.
      const ref = attentionReference(f64(feeds.q), f64(feeds.k), f64(feeds.v), { H, T, S, D, group: H / KVH, causal: true, qOffset: pos });
      expectClose(out, ref, TOL, `qOffset ${pos}`);
    }
    await expect(plan.run({ ...feeds, pos: S - T + 1 })).rejects.toThrow(/query offset 39, outside 0\.\.38/);
    plan.dispose();
  });
});

// The score hook's features (shaders/lib/score.wgsl, src/ops/attention_score.ts): each against the
// float64 reference, and the reference itself against an independent construction of the same thing.
describeOp('attention', 'score hook: packed batches, key padding, ALiBi, soft-cap, window, head dim 256', () => {
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

  for (const ROWS of [2, 4, 8]) {
    it(`${ROWS} query rows per thread (a tuning choice): causal with an offset, packed, key-padded, ALiBi`, async () => {
      const [H, T, S, D] = [4, 45, 50, 32];
      const tuning = { attention: { BQ: 32, BK: 16, ROWS } };
      const x = (n: number, seed: number) => ({ shape: [H, n, D], data: randn(H * n * D, seed) });
      const causal = await runOp(engine, {
        op: 'attention',
        inputs: [x(T, 1), x(S, 2), x(S, 3)],
        attrs: { causal: true, alibi: 8 },
        tuning,
      });
      expectClose(causal.gpu, causal.ref, TOL, `rows ${ROWS} causal`);
      const packed = await runOp(engine, {
        op: 'attention',
        inputs: [x(T, 4), x(T, 5), x(T, 6), { shape: [4], data: Uint32Array.from([0, 7, 40, 45]) }],
        attrs: { causal: false, cu_seqlens: true },
        tuning,
      });
      expectClose(packed.gpu, packed.ref, TOL, `rows ${ROWS} packed`);
      const mask = Uint32Array.from({ length: 2 * T }, (_, i) => (i % T < 30 || i < T ? 1 : 0));
      const padded = await runOp(engine, {
        op: 'attention',
        inputs: [x(T, 7), x(T, 8), x(T, 9), { shape: [2, T], data: mask }],
        attrs: { causal: true, key_mask: true },
        tuning,
      });
      expectClose(padded.gpu, padded.ref, TOL, `rows ${ROWS} key padding`);
    });
  }

  it('bad heads: KV heads that do not divide the query heads are named', () => {
    const g = engine.graph('bad');
    expect(() => g.attention(g.input('q', [6, 3, 32]), g.input('k', [4, 3, 32]), g.input('v', [4, 3, 32]), { causal: true })).toThrow(
      /attention: 4 KV heads must divide 6 query heads/,
    );
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
