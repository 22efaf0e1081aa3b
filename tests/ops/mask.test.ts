// causal_mask against the float64 reference.
import { it } from 'vitest';
import { fileEngine } from '../helpers/engine';
import { describeOp } from '../helpers/conformance';
import { expectClose, randn } from '../helpers/numeric';
import { runOp } from '../helpers/ops';

const engine = fileEngine();

describeOp('causal_mask', () => {
  it('scales and masks scores above the diagonal', async () => {
    const { gpu, ref } = await runOp(engine(), {
      op: 'causal_mask',
      inputs: [{ shape: [2, 5, 7], data: randn(70, 9) }],
      attrs: { scale: 0.125 },
    });
    expectClose(gpu, ref, { atol: 0, rtol: 1.2e-7 }, 'causal_mask');
  });
});
