// lstm_cell against the float64 reference: steps of one layer chained on its work buffer (a state
// written in place), a hidden size that is not a multiple of the workgroup.
import { it } from 'vitest';
import { getOp } from '../../src/index';
import { fileEngine } from '../helpers/engine';
import { describeOp } from '../helpers/conformance';
import { expectClose, f64, randn } from '../helpers/numeric';

const engine = fileEngine();

describeOp('lstm_cell', () => {
  it('steps 0..T-1 of one layer, each reading the h and c the step before wrote', async () => {
    const [T, H] = [3, 37];
    const G = 4 * H;
    const xproj = randn(T * G, 1);
    const whhT = randn(H * G, 2, 0.3);
    const start = new Float32Array((T + 3) * H);
    start.set(randn(H, 3), 0); // h_0
    start.set(randn(H, 4), (T + 1) * H); // c_0
    const e = engine();
    const work = e.tensor(start, [T + 3, H], 'work');
    const g = e.graph('lstm_cell');
    const [x, w] = [g.input('xproj', [T, G]), g.input('whh_t', [H, G])];
    let cur = g.state('work', work);
    for (let t = 0; t < T; t++) cur = g.lstmCell(x, w, cur, t);
    const plan = await g.compile({ work: cur });
    try {
      const out = (await plan.run({ xproj, whh_t: whhT })).work;
      const infos = [
        { shape: [T, G], dtype: 'f32' as const },
        { shape: [H, G], dtype: 'f32' as const },
        { shape: [T + 3, H], dtype: 'f32' as const },
      ];
      let ref = f64(start);
      for (let t = 0; t < T; t++) ref = getOp('lstm_cell').reference([f64(xproj), f64(whhT), ref], infos, { t });
      // Sums of H + 1 f32 products per gate, then sigmoid and tanh (a few ulp each), over T steps.
      expectClose(out, ref, { atol: 1e-5, rtol: 1e-5 }, 'lstm_cell');
    } finally {
      plan.dispose();
      work.dispose();
    }
  });
});
