// topk against the float64 reference: the k largest with indices (ties to the lower index), excluded
// indices skipped, and a long row in two stages (topk_partial over chunks, then topk_merge).
import { expect, it } from 'vitest';
import { getOp } from '../../src/index';
import { fileEngine } from '../helpers/engine';
import { describeOp } from '../helpers/conformance';
import { f64, randn } from '../helpers/numeric';
import { runOp } from '../helpers/ops';

const engine = fileEngine();

describeOp('topk', () => {
  it('returns the k largest with indices, skipping excluded ones', async () => {
    const scores = randn(1001, 4);
    scores[500] = scores[501] = 9; // a tie: lower index first
    const exclude = new Uint32Array([7, 501, 0, 0]);
    const { gpu, ref } = await runOp(engine(), {
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
});

describeOp(['topk_partial', 'topk_merge'], () => {
  it('over a long row goes in two stages (chunks, then a merge) with the same answer', async () => {
    const N = 50_001;
    const scores = randn(N, 8);
    scores[40_000] = scores[17] = 7; // a tie across chunks: lower index first
    const exclude = new Uint32Array([3, 40_000, 0, 0]);
    const g = engine().graph('topk 2-stage');
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
});
