// A compiled plan: ordered dispatches over planned buffers, with pipelines, bind groups, the uniform
// arena and staging buffers all created at compile time. run() writes the feeds, encodes every
// dispatch into one command encoder, submits once and reads back only the requested outputs.
import type { GPUContext } from '../gpu/engine';
import { TENSOR_USAGE } from '../gpu/engine';
import { ArgumentError, DisposedError, LimitError, ShapeError, formatShape } from '../errors';
import type { CompiledKernel } from '../gpu/pipeline-cache';
import { packUniform } from '../wgsl/reflect';
import { getOp, shaderFor } from '../ops/registry';
import type { KernelCall, KernelContext, OpDescriptor, TuningTable } from '../ops/types';
import { Tensor, arrayFor, byteSize, copyOf, numel, paddedBytes, type AnyTypedArray } from '../gpu/tensor';
import type { Graph, SymbolicTensor } from './graph';
import type { IRNode } from './ir';
import { bindingInput, presentInputs } from './bindings';
import { checkFeeds, scalarValue, type Feeds, type UniformPatch } from './feeds';
import { info, schedule, type Schedule } from './schedule';

export interface CompileOptions {
  /** Fold element-wise epilogues (bias, GELU, residual) into the producing op. Default true. */
  fuse?: boolean;
  label?: string;
  /** Tile configurations for this plan only, over the engine's table (the autotuner uses this). */
  tuning?: TuningTable;
  /**
   * Most bytes the plan's planned buffers may take together (default: the engine's memoryBudget, if
   * set). Exceeding it fails at compile time, before anything is allocated.
   */
  maxBytes?: number;
}

export interface PlanMemory {
  /** Bytes of the planned (shared) buffers for inputs and intermediates. */
  peakBytes: number;
  /** What those tensors would take with one buffer each. */
  noReuseBytes: number;
  /** Number of planned buffers. */
  buffers: number;
  /** Constant (weight) bytes bound by this plan, shared with other plans using the same data. */
  constantBytes: number;
}

export interface DispatchTiming {
  label: string;
  op: string;
  /** GPU time from timestamp queries, or null where the adapter has none. */
  ms: number | null;
}

export interface PlanProfile {
  dispatches: DispatchTiming[];
  /** Sum of the dispatch times, or null without timestamp queries. */
  gpuMs: number | null;
  /** Wall time of the run: feeds written to outputs read back. */
  wallMs: number;
  memory: PlanMemory;
}

export type { Feeds } from './feeds';

interface Step {
  node: IRNode;
  kernel: CompiledKernel;
  call: KernelCall;
  bindGroup: GPUBindGroup;
  label: string;
}

const UNIFORM = 0x0040;
const COPY_DST = 0x0008;
const MAP_READ = 0x0001;
const QUERY_RESOLVE = 0x0200;
const COPY_SRC = 0x0004;

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export class Plan<K extends string = string> {
  private disposed = false;
  private steps: Step[] = [];
  private slotBuffers: GPUBuffer[] = [];
  private uniformBuffer: GPUBuffer | null = null;
  private uniformBytes = new ArrayBuffer(0);
  private patches: UniformPatch[] = [];
  private staging = new Map<K, GPUBuffer>();
  private constants: AnyTypedArray[] = [];
  private timestamps: { set: GPUQuerySet; resolve: GPUBuffer; read: GPUBuffer } | null = null;
  private inputs = new Map<string, IRNode>();
  private outputs = new Map<K, IRNode>();
  private buffers = new Map<number, GPUBuffer>();
  readonly memory: PlanMemory;
  /** CPU time of the last run's feed writes, encoding and submit, and of the whole run (ms). */
  readonly lastRun = { encodeMs: 0, totalMs: 0 };

  private constructor(
    readonly engine: GPUContext,
    readonly label: string,
    private readonly sched: Schedule,
    private readonly graph: Graph,
  ) {
    this.memory = { peakBytes: sched.peakBytes, noReuseBytes: sched.noReuseBytes, buffers: sched.slots.length, constantBytes: 0 };
  }

  /** Element-wise nodes folded into a producer's epilogue. */
  get fused(): number {
    return this.sched.fused;
  }

  get dispatches(): number {
    return this.sched.order.length;
  }

  /** The op of each dispatch, in order (e.g. for profiles and tests). */
  get ops(): string[] {
    return this.steps.map((s) => s.label);
  }

  /** @internal Use graph.compile(). */
  static async compile<K extends string>(graph: Graph, outputs: Record<K, SymbolicTensor>, options: CompileOptions): Promise<Plan<K>> {
    const engine = graph.engine;
    const label = options.label ?? graph.label;
    engine.assertAlive(`compile ${label}`);
    const names = Object.keys(outputs) as K[];
    if (names.length === 0) throw new ShapeError(`compile ${label}: no outputs requested`);
    for (const k of names) {
      const t = outputs[k];
      if (!t || t.graph !== graph) throw new ShapeError(`compile ${label}: output '${k}' is not a tensor of this graph`);
    }
    const sched = schedule(
      graph.nodes,
      names.map((k) => outputs[k].id),
      {
        bytesOf: (n) => paddedBytes(numel(n.shape), n.dtype),
        fuse:
          options.fuse === false
            ? undefined
            : (p, c, other) =>
                (getOp(p.op!).fuseEpilogue?.(p.attrs, info(p), { op: c.op!, other: other && info(other) }) as
                  | IRNode['attrs']
                  | undefined) ?? null,
      },
    );
    const plan = new Plan<K>(engine, label, sched, graph);
    for (const n of graph.nodes) if (n.kind === 'input') plan.inputs.set(n.name!, n);
    for (const k of names) plan.outputs.set(k, sched.nodes.get(outputs[k].id)!);
    try {
      plan.checkLimits(options.maxBytes ?? engine.memoryBudget);
      await plan.build(options.tuning);
    } catch (e) {
      plan.dispose(); // nothing a failed compile allocated survives it
      throw await engine.explainFailure(e, `compile ${label}`);
    }
    return plan;
  }

  /** Every planned buffer must fit the device before anything is allocated. */
  private checkLimits(maxBytes: number | undefined): void {
    const limit = Math.min(this.engine.maxBindingSize, this.engine.limits.maxBufferSize);
    const slots = this.sched.slots;
    if (slots.length === 0) return;
    const largest = slots.reduce((best, s) => (s.bytes > best.bytes ? s : best), slots[0]);
    const n = this.sched.nodes.get(largest.nodes[0])!;
    const what = `the largest buffer (${n.op ?? n.name} ${formatShape(n.shape)}, ${largest.bytes} bytes)`;
    if (largest.bytes > limit) {
      throw new LimitError(`compile ${this.label}: ${what} exceeds the device limit of ${limit} bytes`);
    }
    if (maxBytes !== undefined && this.sched.peakBytes > maxBytes) {
      throw new LimitError(
        `compile ${this.label}: the plan needs ${this.sched.peakBytes} bytes of buffers, above the memory budget of ${maxBytes} bytes; ${what}`,
      );
    }
  }

  /** Pipelines, buffers, the uniform buffer, a bind group per dispatch and staging for the outputs. */
  private async build(tuning: TuningTable | undefined): Promise<void> {
    const { engine } = this;
    const ctx = { limits: engine.limits, features: engine.features, tuning: { ...engine.tuning, ...tuning } };
    const calls = this.kernelCalls(ctx);
    const kernels = await Promise.all(
      calls.map(({ desc, call }) => engine.pipelines.get(shaderFor(desc, ctx, call), call.entry, call.constants ?? {})),
    );
    await engine.scoped(`compile ${this.label}`, () => {
      this.allocate();
      const stride = Math.max(256, engine.limits.minUniformBufferOffsetAlignment);
      const withUniform = kernels.filter((k) => k.entry.uniform).length;
      this.uniformBytes = new ArrayBuffer(Math.max(1, withUniform) * stride);
      const view = new DataView(this.uniformBytes);
      let slot = 0;
      this.uniformBuffer = engine.pool.acquire(this.uniformBytes.byteLength, UNIFORM | COPY_DST, `${this.label} uniforms`);
      calls.forEach(({ node, call, desc }, i) => {
        const kernel = kernels[i];
        const label = `${node.op}#${node.id}`;
        const present = presentInputs(desc, node, label);
        const entries = [
          ...(kernel.entry.uniform ? [this.uniformEntry(kernel, call, view, slot++ * stride, label)] : []),
          ...this.storageEntries(kernel, call, node, present, desc, label),
        ];
        const bindGroup = engine.device.createBindGroup({ label: `${label} bind group`, layout: kernel.layout, entries });
        engine.stats.bindGroupsCreated++;
        this.steps.push({ node, kernel, call, bindGroup, label });
      });
      engine.device.queue.writeBuffer(this.uniformBuffer, 0, this.uniformBytes);
      for (const [k, n] of this.outputs) {
        this.staging.set(k, engine.pool.acquire(paddedBytes(numel(n.shape), n.dtype), MAP_READ | COPY_DST, `${this.label} read ${k}`));
      }
    });
  }

  /** Each scheduled node's kernel for these shapes and this device (fused nodes' shapes checked again). */
  private kernelCalls(ctx: KernelContext): { node: IRNode; desc: OpDescriptor; call: KernelCall }[] {
    const { sched } = this;
    return sched.order.map((id) => {
      const node = sched.nodes.get(id)!;
      const desc = getOp(node.op!);
      const ins = node.inputs.map((i) => info(sched.nodes.get(i)!));
      desc.infer(ins, node.attrs); // re-check fused nodes
      return { node, desc, call: desc.kernel(ins, info(node), node.attrs, ctx) };
    });
  }

  /**
   * The uniform binding of one dispatch: its constant fields packed into the slot at `offset`, and a
   * patch per field a per-run scalar feeds (written at run(), after its range is checked).
   */
  private uniformEntry(kernel: CompiledKernel, call: KernelCall, view: DataView, offset: number, label: string): GPUBindGroupEntry {
    const layout = kernel.entry.uniform!;
    const statics: Record<string, number> = {};
    for (const [name, v] of Object.entries(call.uniforms ?? {})) {
      if (typeof v === 'number') statics[name] = v;
      else {
        const f = layout.fields.get(name);
        if (!f) throw new ShapeError(`${label}: uniform ${layout.name} has no field '${name}'`);
        if (!this.graph.scalars.has(v.scalar)) throw new ArgumentError(`${label}: scalar '${v.scalar}' was not declared with g.scalar()`);
        const range = call.ranges?.[name];
        this.patches.push({ offset: offset + f.offset, type: f.type, ref: v, range: range && { ...range, label } });
        statics[name] = 0;
      }
    }
    packUniform(layout, statics, view, offset, label);
    const b = kernel.entry.bindings.find((x) => x.kind === 'uniform')!;
    return { binding: b.binding, resource: { buffer: this.uniformBuffer!, offset, size: align(layout.size, 16) } };
  }

  /**
   * The storage bindings of one dispatch, each bound to its input by name (bindingInput) and the last
   * to the node's output; an absent optional input gets the dummy buffer. Element types are checked.
   */
  private storageEntries(
    kernel: CompiledKernel,
    call: KernelCall,
    node: IRNode,
    present: Map<string, number>,
    desc: OpDescriptor,
    label: string,
  ): GPUBindGroupEntry[] {
    const storage = kernel.entry.bindings.filter((b) => b.kind !== 'uniform');
    return storage.map((b, j) => {
      const isOut = j === storage.length - 1;
      const src = isOut ? node : bindingInput(b, present, desc, label, call.entry, this.sched.nodes);
      // Packed storage types (f16, i8, i4) are u32 words to a shader.
      const stored = src && (src.dtype === 'f16' || src.dtype === 'i8' || src.dtype === 'i4') ? 'u32' : src?.dtype;
      if (src && b.element && !(b.elements ?? [b.element]).includes(stored as 'f32')) {
        throw new ShapeError(
          `${label}: binding '${b.name}' of entry ${call.entry} holds ${b.element}, its tensor ${formatShape(src.shape)} is ${src.dtype}`,
        );
      }
      const buffer = src ? this.bufferOf(src) : this.engine.dummyBuffer();
      const size = src ? paddedBytes(numel(src.shape), src.dtype) : 16;
      return { binding: b.binding, resource: { buffer, offset: 0, size } };
    });
  }

  private allocate(): void {
    const { engine, sched, graph } = this;
    this.slotBuffers = sched.slots.map((s, i) => engine.pool.acquire(s.bytes, TENSOR_USAGE, `${this.label} buffer ${i}`));
    for (const n of sched.nodes.values()) {
      if (n.kind !== 'constant' && n.kind !== 'state') continue;
      const data = graph.bound.get(n.id)!;
      if (data instanceof Tensor) {
        data.assertAlive(`compile ${this.label}`);
        this.buffers.set(n.id, data.buffer);
      } else {
        const t = engine.constants.acquire(data, n.shape, n.name!);
        this.constants.push(data);
        this.buffers.set(n.id, t.buffer);
      }
      if (n.kind === 'constant') this.memory.constantBytes += byteSize(numel(n.shape), n.dtype);
    }
  }

  private bufferOf(n: IRNode): GPUBuffer {
    if (n.writes !== undefined) return this.bufferOf(this.sched.nodes.get(n.writes)!);
    const slot = this.sched.slotOf.get(n.id);
    return slot !== undefined ? this.slotBuffers[slot] : this.buffers.get(n.id)!;
  }

  /**
   * Runs the plan and reads back every output. Runs on one engine execute in call order (across plans
   * sharing a state too), and the feeds are checked and copied when run() is called, so an array
   * refilled before the run starts does not change it. Tensor feeds are read when the run executes.
   */
  run(feeds: Feeds): Promise<Record<K, AnyTypedArray>> {
    return this.enqueue(feeds, 'read') as Promise<Record<K, AnyTypedArray>>;
  }

  /**
   * Runs the plan and leaves the outputs on the GPU. The returned tensors are views of the plan's own
   * buffers, valid until its next run; feed them to another plan to chain without a read-back.
   */
  runToGPU(feeds: Feeds): Promise<Record<K, Tensor>> {
    return this.enqueue(feeds, 'gpu') as Promise<Record<K, Tensor>>;
  }

  /** Runs once with per-dispatch timestamps (where the adapter has them) and reports the memory plan. */
  profile(feeds: Feeds): Promise<PlanProfile> {
    return this.enqueue(feeds, 'profile') as Promise<PlanProfile>;
  }

  private enqueue(feeds: Feeds, mode: 'read' | 'gpu' | 'profile'): Promise<unknown> {
    let copy: Feeds;
    try {
      this.checkFeeds(feeds);
      copy = {};
      for (const [k, v] of Object.entries(feeds)) copy[k] = v instanceof Tensor || typeof v === 'number' ? v : copyOf(v);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.engine.enqueue(async () => {
      try {
        return await this.execute(copy, mode);
      } catch (e) {
        throw await this.engine.explainFailure(e, `run ${this.label}`);
      }
    });
  }

  private checkFeeds(feeds: Feeds): void {
    this.checkRunnable();
    checkFeeds(`run ${this.label}`, feeds, this.inputs, this.graph.scalars, this.patches);
  }

  /** What may have changed between run() and its turn in the queue: disposal, device loss, tensor feeds. */
  private checkRunnable(feeds?: Feeds): void {
    const where = `run ${this.label}`;
    if (this.disposed) throw new DisposedError(`${where}: the plan was disposed`);
    this.engine.assertAlive(where);
    for (const [name, v] of Object.entries(feeds ?? {})) if (v instanceof Tensor) v.assertAlive(`${where}: feed '${name}'`);
  }

  private async execute(feeds: Feeds, mode: 'read' | 'gpu' | 'profile'): Promise<unknown> {
    this.checkRunnable(feeds); // the feeds themselves were checked (and copied) when run() was called
    const { engine } = this;
    const device = engine.device;
    const t0 = performance.now();
    if (mode === 'profile' && engine.features.timestampQuery && !this.timestamps) this.createTimestamps();
    const ts = mode === 'profile' ? this.timestamps : null;
    const submit = () => {
      device.queue.submit([this.record(feeds, mode, ts)]);
      this.lastRun.encodeMs = performance.now() - t0;
    };
    if (mode === 'read') {
      // The outputs' staging buffers map while the error scopes report: one wait, not two.
      const outputs = [...this.outputs];
      await engine.submitAndMap(
        `run ${this.label}`,
        submit,
        outputs.map(([k]) => this.staging.get(k)!),
      );
      const out: Record<string, AnyTypedArray> = {};
      for (const [k, n] of outputs) {
        const s = this.staging.get(k)!;
        const arr = arrayFor(n.dtype, numel(n.shape));
        new Uint8Array(arr.buffer).set(new Uint8Array(s.getMappedRange(0, arr.byteLength)));
        s.unmap();
        out[k] = arr;
      }
      this.lastRun.totalMs = performance.now() - t0;
      return out;
    }
    await engine.scoped(`run ${this.label}`, submit);
    if (mode === 'gpu') {
      const out: Record<string, Tensor> = {};
      for (const [k, n] of this.outputs) out[k] = new Tensor(engine, this.bufferOf(n), n.shape, n.dtype, `${this.label}.${k}`, null);
      return out;
    }
    await device.queue.onSubmittedWorkDone();
    let dispatches: DispatchTiming[] = this.steps.map((s) => ({ label: s.label, op: s.node.op!, ms: null }));
    let gpuMs: number | null = null;
    if (ts) {
      await ts.read.mapAsync(1);
      const times = new BigInt64Array(ts.read.getMappedRange(0, 16 * this.steps.length).slice(0));
      ts.read.unmap();
      dispatches = dispatches.map((d, i) => ({ ...d, ms: Number(times[2 * i + 1] - times[2 * i]) / 1e6 }));
      gpuMs = dispatches.reduce((s, d) => s + d.ms!, 0);
    }
    return { dispatches, gpuMs, wallMs: performance.now() - t0, memory: { ...this.memory } } satisfies PlanProfile;
  }

  /**
   * Writes the feeds and per-run scalars and records one run into a command buffer, without submitting
   * it: an app can submit it together with its own work. Outputs are left in the plan's buffers.
   */
  encode(feeds: Feeds): GPUCommandBuffer {
    this.checkFeeds(feeds);
    return this.record(feeds, 'gpu', null);
  }

  private record(feeds: Feeds, mode: 'read' | 'gpu' | 'profile', ts: Plan['timestamps']): GPUCommandBuffer {
    const device = this.engine.device;
    const enc = device.createCommandEncoder({ label: `run ${this.label}` });
    for (const [name, n] of this.inputs) {
      if (!this.sched.nodes.has(n.id)) continue; // dead input: accepted, unused
      const v = feeds[name] as AnyTypedArray | Tensor;
      const dst = this.bufferOf(n);
      if (v instanceof Tensor) enc.copyBufferToBuffer(v.buffer, 0, dst, 0, align(v.byteLength, 4));
      else device.queue.writeBuffer(dst, 0, v.buffer, v.byteOffset, v.byteLength);
    }
    if (this.patches.length) this.writeScalars(feeds);
    if (ts) {
      this.steps.forEach((s, i) => {
        const pass = enc.beginComputePass({
          label: s.label,
          timestampWrites: { querySet: ts.set, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
        });
        this.encodeStep(pass, s);
        pass.end();
      });
      enc.resolveQuerySet(ts.set, 0, 2 * this.steps.length, ts.resolve, 0);
      enc.copyBufferToBuffer(ts.resolve, 0, ts.read, 0, 16 * this.steps.length);
    } else {
      const pass = enc.beginComputePass({ label: `${this.label} pass` });
      let last: GPUComputePipeline | null = null;
      for (const s of this.steps) {
        this.encodeStep(pass, s, s.kernel.pipeline !== last);
        last = s.kernel.pipeline;
      }
      pass.end();
    }
    if (mode === 'read') {
      for (const [k, n] of this.outputs)
        enc.copyBufferToBuffer(this.bufferOf(n), 0, this.staging.get(k)!, 0, paddedBytes(numel(n.shape), n.dtype));
    }
    return enc.finish();
  }

  private encodeStep(pass: GPUComputePassEncoder, s: Step, setPipeline = true): void {
    if (setPipeline) pass.setPipeline(s.kernel.pipeline);
    pass.setBindGroup(0, s.bindGroup);
    pass.dispatchWorkgroups(s.call.grid[0], s.call.grid[1], s.call.grid[2]);
  }

  private writeScalars(feeds: Feeds): void {
    const view = new DataView(this.uniformBytes);
    let lo = Infinity;
    let hi = 0;
    for (const p of this.patches) {
      const v = scalarValue(p, feeds); // checked by checkFeeds
      if (p.type === 'f32') view.setFloat32(p.offset, v, true);
      else if (p.type === 'i32') view.setInt32(p.offset, v, true);
      else view.setUint32(p.offset, v, true);
      lo = Math.min(lo, p.offset);
      hi = Math.max(hi, p.offset + 4);
    }
    lo = Math.floor(lo / 4) * 4;
    this.engine.device.queue.writeBuffer(this.uniformBuffer!, lo, this.uniformBytes, lo, hi - lo);
  }

  private createTimestamps(): void {
    const n = 2 * this.steps.length;
    const set = this.engine.device.createQuerySet({ label: `${this.label} timestamps`, type: 'timestamp', count: n });
    const resolve = this.engine.createBuffer({ label: `${this.label} timestamp resolve`, size: 8 * n, usage: QUERY_RESOLVE | COPY_SRC });
    const read = this.engine.createBuffer({ label: `${this.label} timestamp read`, size: 8 * n, usage: MAP_READ | COPY_DST });
    this.timestamps = { set, resolve, read };
  }

  /** @internal For tests: fills every planned buffer (intermediates and outputs) with NaN. */
  poison(): void {
    this.sched.slots.forEach((slot, i) => {
      const nan = new Float32Array(Math.ceil(slot.bytes / 4)).fill(NaN);
      this.engine.device.queue.writeBuffer(this.slotBuffers[i], 0, nan);
    });
  }

  /** Returns the plan's buffers to the pool and releases its constants. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const { engine } = this;
    for (const b of this.slotBuffers) engine.pool.release(b);
    for (const b of this.staging.values()) engine.pool.release(b);
    if (this.uniformBuffer) engine.pool.release(this.uniformBuffer);
    for (const c of this.constants) engine.constants.release(c);
    if (this.timestamps) {
      this.timestamps.set.destroy();
      engine.destroyBuffer(this.timestamps.resolve);
      engine.destroyBuffer(this.timestamps.read);
    }
    this.slotBuffers = [];
    this.steps = [];
  }
}
