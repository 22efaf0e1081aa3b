// Graph.op's attributes are typed per op (OpAttrs in src/ops/registry.ts): tsc, which `npm test` runs
// first, fails if any line marked @ts-expect-error below stops being an error.
import { describe, expect, it } from 'vitest';
import type { Graph, SymbolicTensor } from '../../src/index';

/** Never run: what matters is that it typechecks as marked. */
function typedCalls(g: Graph, x: SymbolicTensor, ids: SymbolicTensor): SymbolicTensor[] {
  return [
    g.op('layernorm', [x, x, x], { eps: 1e-5 }),
    g.op('topk', [x, ids], { k: 4, exclude: g.scalar('n') }),
    g.op('softmax', [x]), // no attributes: they may be left out
    // @ts-expect-error: eps is a number
    g.op('layernorm', [x, x, x], { eps: '1e-5' }),
    // @ts-expect-error: topk needs k
    g.op('topk', [x, ids]),
    // @ts-expect-error: a misspelt attribute
    g.op('rmsnorm', [x, x], { epsilon: 1e-6 }),
    // @ts-expect-error: no op of this name
    g.op('layer_norm', [x], {}),
    // @ts-expect-error: writeOp's attributes are the op's too
    g.writeOp('append_ids', ids, [ids, ids], { offset: 'end' }),
  ];
}

describe('Graph.op types', () => {
  it('the typed calls above compile (tsc checks the marked ones fail)', () => {
    expect(typeof typedCalls).toBe('function');
  });
});
