// concat against the float64 reference (exact: it only moves values).
import { it } from 'vitest';
import { fileEngine } from '../helpers/engine';
import { describeOp } from '../helpers/conformance';
import { expectClose, randn } from '../helpers/numeric';
import { runOp } from '../helpers/ops';

const engine = fileEngine();

describeOp('concat', () => {
  it('joins along the last dimension', async () => {
    const { gpu, ref } = await runOp(engine(), {
      op: 'concat',
      inputs: [
        { shape: [3, 5], data: randn(15, 1) },
        { shape: [3, 7], data: randn(21, 2) },
      ],
    });
    expectClose(gpu, ref, { atol: 0, rtol: 0 }, 'concat');
  });
});
