// embedding against the float64 reference: token + position rows, and one row block of a split table
// with and without the position.
import { it } from 'vitest';
import { fileEngine } from '../helpers/engine';
import { describeOp } from '../helpers/conformance';
import { expectClose, randn } from '../helpers/numeric';
import { runOp } from '../helpers/ops';

const engine = fileEngine();

describeOp('embedding', () => {
  it('gathers token + position rows', async () => {
    const [V, P, C, T] = [53, 19, 12, 7];
    const ids = new Uint32Array([0, 52, 3, 3, 17, 8, 1]);
    for (const pos of [0, 5, 12]) {
      const { gpu, ref } = await runOp(engine(), {
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

  it('from one row block of a split table, with and without the position', async () => {
    const [P, C] = [19, 12];
    const ids = new Uint32Array([0, 52, 30, 31, 17]);
    for (const [firstId, addPosition] of [
      [30, true],
      [30, false],
      [0, false],
    ] as const) {
      const { gpu, ref } = await runOp(engine(), {
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
});
