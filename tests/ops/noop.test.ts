// noop, the benchmarks' baseline kernel: it writes its value.
import { expect, it } from 'vitest';
import { fileEngine } from '../helpers/engine';
import { describeOp } from '../helpers/conformance';
import { runOp } from '../helpers/ops';

const engine = fileEngine();

describeOp('noop', () => {
  it('writes its value', async () => {
    const { gpu } = await runOp(engine(), { op: 'noop', inputs: [], attrs: { value: 42 } });
    expect(Array.from(gpu)).toEqual([42]);
  });
});
