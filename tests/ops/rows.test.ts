// Row kernels against the float64 reference: layer norm (with and without residual, scalar and vec4
// rows, eps as given), softmax (including a vocabulary-wide row), embedding, head split/merge, slice
// and strided assign.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getOp, type Engine } from '../../src/index';
import { ropeTables } from '../../src/ops/heads';
import { SOFTMAX_WG } from '../../src/ops/softmax';
import { createTestEngine } from '../helpers/engine';
import { expectClose, f64, randn } from '../helpers/numeric';
import { runOp } from '../helpers/ops';

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

describe('layernorm', () => {
  for (const [rows, C] of [
    [1, 1],
    [3, 7],
    [5, 768],
    [2, 1001],
    [4, 4096],
    [3, 12],
  ]) {
    it(`[${rows}, ${C}]`, async () => {
      const x = randn(rows * C, C, 3);
      for (let i = 0; i < x.length; i++) x[i] += 10; // an offset mean: naive E[x²] - E[x]² would lose digits
      const inputs = [
        { shape: [rows, C], data: x },
        { shape: [C], data: randn(C, 2) },
        { shape: [C], data: randn(C, 3) },
      ];
      const { gpu, ref } = await runOp(engine, { op: 'layernorm', inputs, attrs: { eps: 1e-5 } });
      expectClose(gpu, ref, { atol: 5e-5, rtol: 1e-5 }, 'layernorm');
      const withRes = await runOp(engine, {
        op: 'layernorm',
        inputs: [...inputs, { shape: [rows, C], data: randn(rows * C, 4) }],
        attrs: { eps: 1e-3, residual: true },
      });
      expectClose(withRes.gpu, withRes.ref, { atol: 5e-5, rtol: 1e-5 }, 'layernorm + residual');
    });
  }
});

describe('rmsnorm (LlamaRMSNorm: x / √(mean(x²) + eps) · gamma)', () => {
  for (const [rows, C] of [
    [1, 1],
    [3, 7],
    [5, 576],
    [2, 1001],
    [4, 4096],
  ]) {
    it(`[${rows}, ${C}], alone and of x + residual`, async () => {
      const x = randn(rows * C, C, 3);
      const gamma = randn(C, 2);
      const { gpu, ref } = await runOp(engine, {
        op: 'rmsnorm',
        inputs: [
          { shape: [rows, C], data: x },
          { shape: [C], data: gamma },
        ],
        attrs: { eps: 1e-6 },
      });
      expectClose(gpu, ref, { atol: 5e-5, rtol: 1e-5 }, 'rmsnorm');
      // The reference written out here, independent of the op's: no mean is subtracted.
      for (let r = 0; r < rows; r++) {
        let ms = 0;
        for (let c = 0; c < C; c++) ms += x[r * C + c] ** 2 / C;
        for (let c = 0; c < C; c++) expect(ref[r * C + c]).toBeCloseTo((x[r * C + c] / Math.sqrt(ms + 1e-6)) * gamma[c], 10);
      }
      const withRes = await runOp(engine, {
        op: 'rmsnorm',
        inputs: [
          { shape: [rows, C], data: x },
          { shape: [C], data: gamma },
          { shape: [rows, C], data: randn(rows * C, 4) },
        ],
        attrs: { eps: 1e-5, residual: true },
      });
      expectClose(withRes.gpu, withRes.ref, { atol: 5e-5, rtol: 1e-5 }, 'rmsnorm + residual');
    });
  }
});

describe('softmax', () => {
  for (const [rows, N] of [
    [1, 1],
    [3, 17],
    [3, 50257], // rows 0 and 1 get the spikes below, which leave every other value near 0; row 2 does not
    [7, 256],
    [5, 1000], // vec4 entry, a row that is not a multiple of the workgroup
    [3, 4100],
  ]) {
    it(`[${rows}, ${N}]`, async () => {
      const x = randn(rows * N, N, 4);
      x[0] = 80; // large values must not overflow
      x[x.length - 1] = -3.402823e38; // a masked score (causal_mask's -F32_MAX) gets probability 0
      if (N > 8) x[N + 5] = 60; // a new maximum late in a thread's walk rescales its running sum
      const { gpu, ref } = await runOp(engine, { op: 'softmax', inputs: [{ shape: [rows, N], data: x }] });
      expectClose(gpu, ref, { atol: 1e-7, rtol: 1e-5 }, 'softmax');
    });
  }

  it('every tunable workgroup size, on rows with an unrolled body and a tail (scalar and vec4)', async () => {
    for (const WG of SOFTMAX_WG)
      for (const [rows, N] of [
        [3, 9001], // 9001 % (4 * WG) leaves a scalar tail for every WG
        [2, 4100], // vec4 rows
      ]) {
        const x = randn(rows * N, WG + N, 4);
        x[N + 2 * WG + 1] = 70; // a new maximum in the third load of an unrolled step
        const { gpu, ref } = await runOp(engine, { op: 'softmax', inputs: [{ shape: [rows, N], data: x }], tuning: { softmax: { WG } } });
        expectClose(gpu, ref, { atol: 1e-7, rtol: 1e-5 }, `softmax WG=${WG} [${rows}, ${N}]`);
      }
  });

  it('a tuning WG it cannot use is an error naming the op and the choices', async () => {
    const run = runOp(engine, { op: 'softmax', inputs: [{ shape: [2, 5000], data: randn(10000, 1) }], tuning: { softmax: { WG: 96 } } });
    await expect(run).rejects.toThrow(/softmax: tuning WG=96 for rows of 5000 is not one of 32, 64, 128, 256/);
  });
});

describe('embedding, heads, slice, assign', () => {
  it('embedding gathers token + position rows', async () => {
    const [V, P, C, T] = [53, 19, 12, 7];
    const ids = new Uint32Array([0, 52, 3, 3, 17, 8, 1]);
    for (const pos of [0, 5, 12]) {
      const { gpu, ref } = await runOp(engine, {
        op: 'embedding',
        inputs: [
          { shape: [T], data: ids },
          { shape: [V, C], data: randn(V * C, 1) },
          { shape: [P, C], data: randn(P * C, 2) },
        ],
        attrs: { pos },
      });
      expectClose(gpu, ref, { atol: 0, rtol: 1.2e-7 }, `embedding pos=${pos}`);
    }
  });

  it('embedding from one row block of a split table, with and without the position', async () => {
    const [P, C] = [19, 12];
    const ids = new Uint32Array([0, 52, 30, 31, 17]);
    for (const [firstId, addPosition] of [
      [30, true],
      [30, false],
      [0, false],
    ] as const) {
      const { gpu, ref } = await runOp(engine, {
        op: 'embedding',
        inputs: [
          { shape: [5], data: ids },
          { shape: [23, C], data: randn(23 * C, 5) },
          { shape: [P, C], data: randn(P * C, 6) },
        ],
        attrs: { pos: 2, firstId, addPosition },
      });
      expectClose(gpu, ref, { atol: 0, rtol: 1.2e-7 }, `embedding block from ${firstId}`);
    }
  });

  it('concat joins along the last dimension', async () => {
    const { gpu, ref } = await runOp(engine, {
      op: 'concat',
      inputs: [
        { shape: [3, 5], data: randn(15, 1) },
        { shape: [3, 7], data: randn(21, 2) },
      ],
    });
    expectClose(gpu, ref, { atol: 0, rtol: 0 }, 'concat');
  });

  it('split_heads takes q, k, v out of a fused projection; merge_heads undoes it', async () => {
    const [T, H, D] = [5, 3, 4];
    const qkv = randn(T * 3 * H * D, 1);
    for (const part of [0, 1, 2]) {
      const { gpu, ref } = await runOp(engine, {
        op: 'split_heads',
        inputs: [{ shape: [T, 3 * H * D], data: qkv }],
        attrs: { heads: H, part, parts: 3 },
      });
      expectClose(gpu, ref, { atol: 0, rtol: 0 }, `split part ${part}`);
    }
    const m = await runOp(engine, { op: 'merge_heads', inputs: [{ shape: [H, T, D], data: randn(H * T * D, 2) }] });
    expectClose(m.gpu, m.ref, { atol: 0, rtol: 0 }, 'merge');
  });

  it("RoPE in split_heads: HF's rotate-half on GQA q and k of a fused projection, prefill and a decode position from a scalar", async () => {
    const [T, H, KVH, D, P, theta] = [6, 4, 2, 16, 40, 10000];
    const row = (H + 2 * KVH) * D;
    const qkv = randn(T * row, 11);
    const invFreq = Array.from({ length: D / 2 }, (_, i) => 1 / theta ** ((2 * i) / D));
    const { cos, sin } = ropeTables(invFreq, P);
    // Hugging Face's apply_rotary_pos_emb in float64: cos/sin = cat(freqs, freqs), q·cos + rotate_half(q)·sin.
    const hf = (heads: number, offset: number, pos: number, t: number) => {
      const out = new Float64Array(heads * t * D);
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < t; i++) {
          const x = (d: number) => qkv[i * row + offset + h * D + d];
          for (let d = 0; d < D; d++) {
            const angle = (pos + i) * invFreq[d % (D / 2)];
            const rot = d < D / 2 ? -x(d + D / 2) : x(d - D / 2);
            out[(h * t + i) * D + d] = x(d) * Math.cos(angle) + rot * Math.sin(angle);
          }
        }
      return out;
    };
    const g = engine.graph('rope');
    const x = g.input('x', [T, row]);
    const rope = { cos: g.input('cos', [P, D / 2]), sin: g.input('sin', [P, D / 2]) };
    const x1 = g.input('x1', [1, row]);
    const plan = await g.compile({
      q: g.heads(x, { heads: H, headDim: D, rope: { ...rope, pos: 0 } }),
      k: g.heads(x, { heads: KVH, headDim: D, offset: H * D, rope: { ...rope, pos: 0 } }),
      v: g.heads(x, { heads: KVH, headDim: D, offset: (H + KVH) * D }),
      q1: g.heads(x1, { heads: H, headDim: D, rope: { ...rope, pos: g.scalar('pos') } }),
    });
    plan.poison();
    const out = await plan.run({ x: qkv, x1: qkv.subarray(3 * row, 4 * row), cos, sin, pos: 3 });
    const tol = { atol: 1e-6, rtol: 1e-6 }; // the tables are rounded to f32 once
    expectClose(out.q, hf(H, 0, 0, T), tol, 'rope q');
    expectClose(out.k, hf(KVH, H * D, 0, T), tol, 'rope k');
    expectClose(
      out.q1,
      hf(H, 0, 0, T).filter((_, i) => Math.floor(i / D) % T === 3),
      tol,
      'rope q at position 3 from a scalar',
    );
    const v = new Float64Array(KVH * T * D);
    for (let h = 0; h < KVH; h++)
      for (let i = 0; i < T; i++) for (let d = 0; d < D; d++) v[(h * T + i) * D + d] = qkv[i * row + (H + KVH) * D + h * D + d];
    expectClose(out.v, v, { atol: 0, rtol: 0 }, 'v (no rotation)');
    await expect(plan.run({ x: qkv, x1: qkv.subarray(0, row), cos, sin, pos: P })).rejects.toThrow(/first position/);
    plan.dispose();
  });

  it('repetition_penalty: the ids of the history (repeats and ids past V included) divide positive logits, multiply negative ones', async () => {
    const V = 1001;
    const logits = randn(V, 12);
    const history = new Uint32Array([5, 17, 5, 999, 4000, 17, 0, 3]);
    for (const length of [0, 3, 8]) {
      const { gpu, ref } = await runOp(engine, {
        op: 'repetition_penalty',
        inputs: [
          { shape: [1, V], data: logits },
          { shape: [history.length], data: history },
        ],
        attrs: { penalty: 1.5, length },
      });
      expectClose(gpu, ref, { atol: 0, rtol: 1e-7 }, `penalty length ${length}`);
      const hit = new Set(Array.from(history.subarray(0, length)).filter((i) => i < V));
      for (let i = 0; i < V; i++) {
        const want = hit.has(i) ? (logits[i] > 0 ? logits[i] / 1.5 : logits[i] * 1.5) : logits[i];
        expect(ref[i]).toBeCloseTo(want, 6);
      }
    }
  });

  it('normalize makes rows unit length (zero rows stay zero)', async () => {
    const x = randn(5 * 37, 3);
    x.fill(0, 37, 74);
    const { gpu, ref } = await runOp(engine, { op: 'normalize', inputs: [{ shape: [5, 37], data: x }] });
    expectClose(gpu, ref, { atol: 1e-7, rtol: 1e-6 }, 'normalize');
  });

  it('topk returns the k largest with indices, skipping excluded ones', async () => {
    const scores = randn(1001, 4);
    scores[500] = scores[501] = 9; // a tie: lower index first
    const exclude = new Uint32Array([7, 501, 0, 0]);
    const { gpu, ref } = await runOp(engine, {
      op: 'topk',
      inputs: [
        { shape: [1001], data: scores },
        { shape: [4], data: exclude },
      ],
      attrs: { k: 6, exclude: 2 },
    });
    const idx = Array.from(gpu.subarray(0, 6));
    expect(idx).toEqual(Array.from(ref.subarray(0, 6)));
    expect(idx[0]).toBe(500);
    expect(Array.from(new Float32Array(gpu.buffer, 24, 6))).toEqual(Array.from(ref.subarray(6), (v) => Math.fround(v)));
  });

  it('noop writes its value', async () => {
    const { gpu } = await runOp(engine, { op: 'noop', inputs: [], attrs: { value: 42 } });
    expect(Array.from(gpu)).toEqual([42]);
  });

  it('topk over a long row goes in two stages (chunks, then a merge) with the same answer', async () => {
    const N = 50_001;
    const scores = randn(N, 8);
    scores[40_000] = scores[17] = 7; // a tie across chunks: lower index first
    const exclude = new Uint32Array([3, 40_000, 0, 0]);
    const g = engine.graph('topk 2-stage');
    const top = g.topk(g.input('s', [N]), g.input('e', [4], 'u32'), 12, { exclude: 2 });
    const plan = await g.compile({ top });
    expect(plan.dispatches).toBe(2);
    plan.poison();
    const gpu = (await plan.run({ s: scores, e: exclude })).top as Uint32Array;
    const ref = getOp('topk').reference(
      [f64(scores), f64(exclude)],
      [
        { shape: [N], dtype: 'f32' },
        { shape: [4], dtype: 'u32' },
      ],
      { k: 12, exclude: 2 },
    );
    expect(Array.from(gpu.subarray(0, 12))).toEqual(Array.from(ref.subarray(0, 12)));
    expect(gpu[0]).toBe(17);
    expect(Array.from(new Float32Array(gpu.buffer, 48, 12))).toEqual(Array.from(ref.subarray(12), (v) => Math.fround(v)));
    plan.dispose();
  });

  it('causal_mask scales and masks scores above the diagonal', async () => {
    const { gpu, ref } = await runOp(engine, {
      op: 'causal_mask',
      inputs: [{ shape: [2, 5, 7], data: randn(70, 9) }],
      attrs: { scale: 0.125 },
    });
    expectClose(gpu, ref, { atol: 0, rtol: 1.2e-7 }, 'causal_mask');
  });

  it('slice takes rows; assign writes strided rows into a state', async () => {
    const s = await runOp(engine, { op: 'slice', inputs: [{ shape: [6, 5], data: randn(30, 1) }], attrs: { start: 4, count: 2 } });
    expectClose(s.gpu, s.ref, { atol: 0, rtol: 0 }, 'slice');
    const a = await runOp(engine, {
      op: 'assign',
      inputs: [
        { shape: [2, 6, 3], data: randn(36, 2) },
        { shape: [2, 1, 3], data: randn(6, 3) },
      ],
      attrs: { offset: 4 * 3, strided: { outer: 2, rows: 1, rowLen: 3, dstRow: 3, dstOuter: 18 } },
    });
    // runOp feeds the state as a plain input; what matters is which elements the kernel wrote.
    const written = [12, 13, 14, 30, 31, 32];
    expectClose(
      Float32Array.from(written, (i) => a.gpu[i]),
      Float64Array.from(written, (i) => a.ref[i]),
      { atol: 0, rtol: 0 },
      'assign',
    );
  });
});

describe('reductions without subgroups', () => {
  // The default engine above uses subgroup reductions where the adapter has them; these run the
  // workgroup-memory versions of the same kernels.
  it('layer norm, softmax and normalize agree with the reference on the shared-memory path', async () => {
    const plain = await createTestEngine({ disableFeatures: ['subgroups'] });
    expect(plain.features.subgroups).toBe(false);
    const x = randn(3 * 1001, 1, 3);
    const ln = await runOp(plain, {
      op: 'layernorm',
      inputs: [
        { shape: [3, 1001], data: x },
        { shape: [1001], data: randn(1001, 2) },
        { shape: [1001], data: randn(1001, 3) },
      ],
      attrs: { eps: 1e-5 },
    });
    expectClose(ln.gpu, ln.ref, { atol: 5e-5, rtol: 1e-5 }, 'layernorm (shared)');
    const sm = await runOp(plain, { op: 'softmax', inputs: [{ shape: [3, 1001], data: x }] });
    expectClose(sm.gpu, sm.ref, { atol: 1e-7, rtol: 1e-5 }, 'softmax (shared)');
    const y = randn(2 * 9001, 5, 3);
    const small = await runOp(plain, { op: 'softmax', inputs: [{ shape: [2, 9001], data: y }], tuning: { softmax: { WG: 32 } } });
    expectClose(small.gpu, small.ref, { atol: 1e-7, rtol: 1e-5 }, 'softmax (shared, WG=32)');
    const nm = await runOp(plain, { op: 'normalize', inputs: [{ shape: [3, 1001], data: x }] });
    expectClose(nm.gpu, nm.ref, { atol: 1e-7, rtol: 1e-6 }, 'normalize (shared)');
    plain.dispose();
  });
});
