// The scheduler on plain data, no device: ordering, dead nodes, cycles, fusion, liveness and buffer
// assignment with reuse.
import { describe, expect, it } from 'vitest';
import type { IRNode } from '../../src/graph/ir';
import { GraphError, assignBuffers, schedule, topoOrder } from '../../src/graph/schedule';

const bytesOf = (n: IRNode) => n.shape.reduce((a, b) => a * b, 1) * 4;

function input(id: number, shape: number[]): IRNode {
  return { id, kind: 'input', name: `in${id}`, inputs: [], attrs: {}, shape, dtype: 'f32' };
}
function op(id: number, name: string, inputs: number[], shape: number[], attrs: Record<string, unknown> = {}): IRNode {
  return { id, kind: 'op', op: name, inputs, attrs, shape, dtype: 'f32' };
}

/** The fusion rule the engine uses for matmul, reduced to what these tests need. */
const fuse = (p: IRNode, c: IRNode, other: IRNode | undefined) => {
  if (p.op !== 'matmul') return null;
  if (c.op === 'gelu' && !p.attrs.act && !p.attrs.residual) return { ...p.attrs, act: 'gelu' };
  if (c.op === 'add' && other?.shape.length === 1 && !p.attrs.bias && !p.attrs.act) return { ...p.attrs, bias: true };
  if (c.op === 'add' && other && other.shape.length === p.shape.length && !p.attrs.residual) return { ...p.attrs, residual: true };
  return null;
};

describe('schedule', () => {
  it('orders by dependencies and drops nodes no output needs', () => {
    const nodes = [input(0, [4]), op(1, 'gelu', [0], [4]), op(2, 'gelu', [0], [4]), op(3, 'add', [1, 0], [4])];
    const s = schedule(nodes, [3], { bytesOf });
    expect(s.order).toEqual([1, 3]);
    expect(s.nodes.has(2)).toBe(false);
  });

  it('reports a cycle with the nodes on it', () => {
    const nodes = new Map([
      [0, input(0, [4])],
      [1, op(1, 'add', [0, 2], [4])],
      [2, op(2, 'gelu', [1], [4])],
    ]);
    expect(() => topoOrder(nodes)).toThrow(GraphError);
    expect(() => topoOrder(nodes)).toThrow(/cycle through add#1, gelu#2/);
  });

  it('rejects an output that is not in the graph', () => {
    expect(() => schedule([input(0, [2])], [5], { bytesOf })).toThrow(/output node 5 is not in the graph/);
  });

  it('runs a state writer after the other readers of the state', () => {
    const state: IRNode = { id: 0, kind: 'state', name: 'h', inputs: [], attrs: {}, shape: [4], dtype: 'f32' };
    const reader = op(1, 'gelu', [0], [4]);
    const writer: IRNode = { ...op(2, 'copy', [3], [4]), writes: 0 };
    const value = op(3, 'gelu', [4], [4]);
    const nodes = [state, reader, writer, value, input(4, [4])];
    // The writer has a smaller id than its value's producer, but must wait for it and for the reader.
    const s = schedule(nodes, [1], { bytesOf });
    expect(s.order.indexOf(2)).toBeGreaterThan(s.order.indexOf(1));
    expect(s.order.indexOf(2)).toBeGreaterThan(s.order.indexOf(3));
  });

  it('folds bias, GELU and residual into the matmul and counts them', () => {
    const nodes = [
      input(0, [8, 16]), // x
      input(1, [16, 32]), // w
      input(2, [32]), // bias
      input(3, [8, 32]), // residual
      op(4, 'matmul', [0, 1], [8, 32]),
      op(5, 'add', [4, 2], [8, 32]),
      op(6, 'gelu', [5], [8, 32]),
      op(7, 'add', [3, 6], [8, 32]),
    ];
    const s = schedule(nodes, [7], { bytesOf, fuse });
    expect(s.fused).toBe(3);
    expect(s.order).toEqual([7]);
    const fused = s.nodes.get(7)!;
    expect(fused.op).toBe('matmul');
    expect(fused.attrs).toMatchObject({ bias: true, act: 'gelu', residual: true });
    expect(fused.inputs).toEqual([0, 1, 2, 3]);
  });

  it('does not fuse into a producer whose result is also an output or used twice', () => {
    const nodes = [
      input(0, [2, 2]),
      input(1, [2, 2]),
      op(2, 'matmul', [0, 1], [2, 2]),
      op(3, 'gelu', [2], [2, 2]),
      op(4, 'add', [2, 3], [2, 2]),
    ];
    expect(schedule(nodes, [4], { bytesOf, fuse }).fused).toBe(0);
    expect(schedule(nodes.slice(0, 4), [2, 3], { bytesOf, fuse }).fused).toBe(0);
  });

  it('gives live intervals: inputs from -1, outputs to the end', () => {
    const nodes = [input(0, [4]), op(1, 'gelu', [0], [4]), op(2, 'gelu', [1], [4]), op(3, 'gelu', [2], [4])];
    const s = schedule(nodes, [3], { bytesOf });
    expect(s.intervals.get(0)).toEqual([-1, 0]);
    expect(s.intervals.get(1)).toEqual([0, 1]);
    expect(s.intervals.get(2)).toEqual([1, 2]);
    expect(s.intervals.get(3)).toEqual([2, 3]);
    // A chain ping-pongs between two buffers: the input shares with gelu#2, gelu#1 with the output.
    expect(s.slots.length).toBe(2);
    expect(s.slotOf.get(0)).toBe(s.slotOf.get(2));
    expect(s.slotOf.get(1)).toBe(s.slotOf.get(3));
  });

  it('never shares a buffer between tensors whose intervals overlap', () => {
    const items = [
      { id: 0, bytes: 100, interval: [0, 3] as [number, number] },
      { id: 1, bytes: 80, interval: [3, 5] as [number, number] },
      { id: 2, bytes: 60, interval: [4, 6] as [number, number] },
      { id: 3, bytes: 50, interval: [6, 8] as [number, number] },
    ];
    const { slots, slotOf } = assignBuffers(items);
    for (const a of items) {
      for (const b of items) {
        if (a.id < b.id && slotOf.get(a.id) === slotOf.get(b.id)) {
          expect(a.interval[1] < b.interval[0] || b.interval[1] < a.interval[0]).toBe(true);
        }
      }
    }
    // 0 and 2 share (disjoint), 1 and 3 share: two buffers of 100 and 80 bytes.
    expect(slots.map((s) => s.bytes)).toEqual([100, 80]);
  });

  it('plans a 12-block transformer-like MLP chain in well under 40% of the no-reuse bytes', () => {
    const T = 64;
    const C = 768;
    const nodes: IRNode[] = [input(0, [T, C])];
    let x = 0;
    let id = 1;
    for (let layer = 0; layer < 12; layer++) {
      const w1 = id++;
      nodes.push({ id: w1, kind: 'constant', name: `w1.${layer}`, inputs: [], attrs: {}, shape: [C, 4 * C], dtype: 'f32' });
      const w2 = id++;
      nodes.push({ id: w2, kind: 'constant', name: `w2.${layer}`, inputs: [], attrs: {}, shape: [4 * C, C], dtype: 'f32' });
      const h = id++;
      nodes.push(op(h, 'matmul', [x, w1], [T, 4 * C]));
      const a = id++;
      nodes.push(op(a, 'gelu', [h], [T, 4 * C]));
      const o = id++;
      nodes.push(op(o, 'matmul', [a, w2], [T, C]));
      const r = id++;
      nodes.push(op(r, 'add', [o, x], [T, C]));
      x = r;
    }
    const s = schedule(nodes, [x], { bytesOf });
    expect(s.noReuseBytes).toBeGreaterThan(0);
    const ratio = s.peakBytes / s.noReuseBytes;
    console.log(
      `12-block MLP: peak ${s.peakBytes} B of ${s.noReuseBytes} B without reuse (${(100 * ratio).toFixed(1)}%), ${s.slots.length} buffers`,
    );
    expect(ratio).toBeLessThan(0.4);
  });
});
