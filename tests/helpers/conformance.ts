// describeOp: the conformance suite of one or more registered ops, a describe() titled by the op names.
// tests/unit/op-coverage.test.ts reads these calls from tests/ops (a static scan, so it needs no
// device) and fails when a registered op has none, or has one outside tests/ops/<module>.test.ts,
// the file named for the src/ops module that defines the op.
import { describe } from 'vitest';
import type { OpName } from '../../src/ops/registry';

/** `describeOp('topk', body)`, or with a note on what the suite checks: `describeOp('rmsnorm', 'x / √(mean(x²) + eps) · γ', body)`. */
export function describeOp(ops: OpName | readonly OpName[], noteOrBody: string | (() => void), body?: () => void): void {
  const names = typeof ops === 'string' ? ops : ops.join(', ');
  if (typeof noteOrBody === 'function') describe(names, noteOrBody);
  else describe(`${names} (${noteOrBody})`, body ?? (() => {}));
}
