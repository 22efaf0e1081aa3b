// split_heads (q, k, v out of a fused projection; RoPE as Hugging Face applies it, GQA, a decode
// position from a scalar) and merge_heads against the float64 reference.
import { expect, it } from 'vitest';
import { ropeTables } from '../../src/ops/heads';
import { fileEngine } from '../helpers/engine';
import { describeOp } from '../helpers/conformance';
import { expectClose, randn } from '../helpers/numeric';
import { runOp } from '../helpers/ops';

const engine = fileEngine();

describeOp('split_heads', () => {
  it('takes q, k, v out of a fused projection', async () => {
    const [T, H, D] = [5, 3, 4];
    const qkv = randn(T * 3 * H * D, 1);
    for (const part of [0, 1, 2]) {
      const { gpu, ref } = await runOp(engine(), {
        op: 'split_heads',
        inputs: [{ shape: [T, 3 * H * D], data: qkv }],
        attrs: { heads: H, part, parts: 3 },
      });
      expectClose(gpu, ref, { atol: 0, rtol: 0 }, `split part ${part}`);
    }
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
    const g = engine().graph('rope');
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
});

describeOp('merge_heads', () => {
  it('undoes split_heads: [heads, T, D] -> [T, heads * D]', async () => {
    const [T, H, D] = [5, 3, 4];
    const m = await runOp(engine(), { op: 'merge_heads', inputs: [{ shape: [H, T, D], data: randn(H * T * D, 2) }] });
    expectClose(m.gpu, m.ref, { atol: 0, rtol: 0 }, 'merge');
  });
});
