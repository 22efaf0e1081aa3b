// The scheduler on plain data: dead-node elimination, epilogue fusion, topological order, liveness
// intervals and buffer assignment with reuse (greedy by size over shared buffers).
import type { IRNode } from './ir';
import type { TensorInfo } from '../ops/types';

/** Returns the producer's new attrs with `consumer` folded in, or null. */
export type FusionRule = (producer: IRNode, consumer: IRNode, other: IRNode | undefined) => Record<string, unknown> | null;

export interface ScheduleOptions {
  /** Bytes of a node's buffer. */
  bytesOf(node: IRNode): number;
  /** Epilogue fusion; leave out to disable fusion. */
  fuse?: FusionRule;
}

export interface BufferSlot {
  bytes: number;
  /** Nodes sharing this buffer, with disjoint live intervals. */
  nodes: number[];
}

export interface Schedule {
  /** The nodes after fusion, by id. */
  nodes: Map<number, IRNode>;
  /** Op node ids in execution order. */
  order: number[];
  /** Element-wise nodes folded into a producer's epilogue. */
  fused: number;
  /** Inclusive [first step, last step] each planned tensor is live (inputs start at -1). */
  intervals: Map<number, [number, number]>;
  slots: BufferSlot[];
  /** Planned node id → slot index. Constants and states are not planned. */
  slotOf: Map<number, number>;
  peakBytes: number;
  noReuseBytes: number;
}

import { GraphError } from '../errors';

export { GraphError };

export function info(n: IRNode): TensorInfo {
  return { shape: n.shape, dtype: n.dtype };
}

function describe(n: IRNode): string {
  return n.kind === 'op' ? `${n.op}#${n.id}` : `${n.kind} '${n.name}'`;
}

/** Nodes reachable from the outputs or from in-place writers (side effects). */
export function liveNodes(nodes: Map<number, IRNode>, outputs: readonly number[]): Set<number> {
  const keep = new Set<number>();
  const stack = [...outputs];
  for (const n of nodes.values()) if (n.writes !== undefined) stack.push(n.id);
  while (stack.length) {
    const id = stack.pop()!;
    if (keep.has(id)) continue;
    const n = nodes.get(id);
    if (!n) throw new GraphError(`node ${id} is referenced but not in the graph`);
    keep.add(id);
    stack.push(...n.inputs);
  }
  return keep;
}

function consumersOf(nodes: Map<number, IRNode>): Map<number, number[]> {
  const users = new Map<number, number[]>();
  for (const n of nodes.values()) {
    for (const i of new Set(n.inputs)) {
      let list = users.get(i);
      if (!list) {
        list = [];
        users.set(i, list);
      }
      list.push(n.id);
    }
  }
  return users;
}

/** Folds chains of element-wise consumers into their producer; returns how many were folded. */
export function fuseEpilogues(nodes: Map<number, IRNode>, outputs: readonly number[], rule: FusionRule): number {
  const outs = new Set(outputs);
  let fused = 0;
  for (const id of [...nodes.keys()].sort((a, b) => a - b)) {
    let producer = nodes.get(id);
    if (producer?.kind !== 'op' || producer.writes !== undefined) continue;
    for (;;) {
      const users = consumersOf(nodes).get(producer.id) ?? [];
      if (users.length !== 1 || outs.has(producer.id)) break;
      const consumer = nodes.get(users[0])!;
      if (consumer.kind !== 'op' || consumer.writes !== undefined) break;
      const others = consumer.inputs.filter((i) => i !== producer!.id);
      if (others.length > 1 || consumer.inputs.length - others.length !== 1) break;
      const other = others.length ? nodes.get(others[0]) : undefined;
      const attrs = rule(producer, consumer, other);
      if (!attrs) break;
      // The fused node takes the consumer's id, so whoever read the consumer now reads it.
      const merged: IRNode = {
        ...producer,
        id: consumer.id,
        attrs,
        inputs: other ? [...producer.inputs, other.id] : producer.inputs,
        shape: consumer.shape,
      };
      nodes.delete(producer.id);
      nodes.set(consumer.id, merged);
      producer = merged;
      fused++;
    }
  }
  return fused;
}

/**
 * Kahn's algorithm, smallest id first among the ready nodes (deterministic). A node that writes a
 * state in place runs after every other reader of that state that does not depend on it.
 */
export function topoOrder(nodes: Map<number, IRNode>): number[] {
  const deps = new Map<number, Set<number>>();
  for (const n of nodes.values()) deps.set(n.id, new Set(n.inputs.filter((i) => nodes.has(i))));
  for (const w of nodes.values()) {
    if (w.writes === undefined) continue;
    for (const r of nodes.values()) {
      if (r.id === w.id || !r.inputs.includes(w.writes)) continue;
      if (r.writes === w.writes) {
        if (r.id < w.id) deps.get(w.id)!.add(r.id); // writers of one state keep program order
      } else if (!dependsOn(nodes, r.id, w.id)) deps.get(w.id)!.add(r.id);
    }
  }
  const order: number[] = [];
  const done = new Set<number>();
  const ready = [...deps].filter(([, d]) => d.size === 0).map(([id]) => id);
  while (ready.length) {
    ready.sort((a, b) => a - b);
    const id = ready.shift()!;
    order.push(id);
    done.add(id);
    for (const [other, d] of deps) {
      if (done.has(other) || ready.includes(other) || !d.has(id)) continue;
      if ([...d].every((x) => done.has(x))) ready.push(other);
    }
  }
  if (order.length !== nodes.size) {
    const stuck = [...nodes.values()].filter((n) => !done.has(n.id)).map(describe);
    throw new GraphError(`the graph has a cycle through ${stuck.join(', ')}`);
  }
  return order;
}

function dependsOn(nodes: Map<number, IRNode>, from: number, target: number): boolean {
  const seen = new Set<number>();
  const stack = [from];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === target) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(nodes.get(id)?.inputs ?? []));
  }
  return false;
}

/** Greedy by size: largest tensors first, each into the first buffer whose users are all dead by then. */
export function assignBuffers(items: { id: number; bytes: number; interval: [number, number] }[]): {
  slots: BufferSlot[];
  slotOf: Map<number, number>;
} {
  const sorted = [...items].sort((a, b) => b.bytes - a.bytes || a.interval[0] - b.interval[0] || a.id - b.id);
  const slots: (BufferSlot & { intervals: [number, number][] })[] = [];
  const slotOf = new Map<number, number>();
  for (const it of sorted) {
    const [s, e] = it.interval;
    let index = slots.findIndex((slot) => slot.intervals.every(([a, b]) => e < a || b < s));
    if (index < 0) {
      index = slots.length;
      slots.push({ bytes: 0, nodes: [], intervals: [] });
    }
    const slot = slots[index];
    slot.bytes = Math.max(slot.bytes, it.bytes);
    slot.nodes.push(it.id);
    slot.intervals.push(it.interval);
    slotOf.set(it.id, index);
  }
  return { slots: slots.map(({ bytes, nodes }) => ({ bytes, nodes })), slotOf };
}

export function schedule(all: readonly IRNode[], outputs: readonly number[], options: ScheduleOptions): Schedule {
  const byId = new Map(all.map((n) => [n.id, { ...n }]));
  for (const o of outputs) if (!byId.has(o)) throw new GraphError(`output node ${o} is not in the graph`);
  const keep = liveNodes(byId, outputs);
  const nodes = new Map([...byId].filter(([id]) => keep.has(id)));
  const fused = options.fuse ? fuseEpilogues(nodes, outputs, options.fuse) : 0;
  const order = topoOrder(nodes).filter((id) => nodes.get(id)!.kind === 'op');
  const step = new Map(order.map((id, i) => [id, i]));
  const end = order.length;
  const intervals = new Map<number, [number, number]>();
  for (const n of nodes.values()) {
    const planned = n.kind === 'input' || (n.kind === 'op' && n.writes === undefined);
    if (planned) intervals.set(n.id, [n.kind === 'input' ? -1 : step.get(n.id)!, n.kind === 'input' ? -1 : step.get(n.id)!]);
  }
  for (const id of order) {
    for (const i of nodes.get(id)!.inputs) {
      const iv = intervals.get(i);
      if (iv) iv[1] = Math.max(iv[1], step.get(id)!);
    }
  }
  for (const o of outputs) {
    const iv = intervals.get(o);
    if (iv) iv[1] = end;
  }
  const items = [...intervals].map(([id, interval]) => ({ id, interval, bytes: options.bytesOf(nodes.get(id)!) }));
  const { slots, slotOf } = assignBuffers(items);
  return {
    nodes,
    order,
    fused,
    intervals,
    slots,
    slotOf,
    peakBytes: slots.reduce((s, b) => s + b.bytes, 0),
    noReuseBytes: items.reduce((s, it) => s + it.bytes, 0),
  };
}
