// repetition_penalty (history ids divide positive logits, multiply negative ones) and append_ids (ids
// written into a u32 history state at an offset from a scalar) against the float64 reference.
import { expect, it } from 'vitest';
import { getOp } from '../../src/index';
import { fileEngine } from '../helpers/engine';
import { describeOp } from '../helpers/conformance';
import { expectClose, f64, randn } from '../helpers/numeric';
import { runOp } from '../helpers/ops';

const engine = fileEngine();

describeOp('repetition_penalty', () => {
  it('the ids of the history (repeats and ids past V included) divide positive logits, multiply negative ones', async () => {
    const V = 1001;
    const logits = randn(V, 12);
    const history = new Uint32Array([5, 17, 5, 999, 4000, 17, 0, 3]);
    for (const length of [0, 3, 8]) {
      const { gpu, ref } = await runOp(engine(), {
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
});

describeOp('append_ids', () => {
  it('writes ids into the history state in place at an offset read per run; the state keeps them across runs', async () => {
    const e = engine();
    const start = Uint32Array.from({ length: 16 }, (_, i) => 100 + i);
    const state = e.tensor(start, [16], 'history');
    const ids = new Uint32Array([7, 8, 9]);
    const g = e.graph('append_ids');
    const before = g.state('history', state);
    const history = g.writeOp('append_ids', before, [before, g.input('ids', [3], 'u32')], { offset: g.scalar('pos') });
    const plan = await g.compile({ history });
    try {
      let want = f64(start);
      for (const pos of [2, 9, 13]) {
        const out = (await plan.run({ ids, pos })).history;
        want = getOp('append_ids').reference(
          [want, f64(ids)],
          [
            { shape: [16], dtype: 'u32' },
            { shape: [3], dtype: 'u32' },
          ],
          { offset: pos },
        );
        expect(Array.from(out), `offset ${pos}`).toEqual(Array.from(want));
      }
      await expect(plan.run({ ids, pos: 14 })).rejects.toThrow(/history position/);
    } finally {
      plan.dispose();
      state.dispose();
    }
  });
});
