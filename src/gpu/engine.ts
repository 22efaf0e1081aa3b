// The GPU context: a GPUDevice owned or borrowed, adapter acquisition, limits and features, error
// scopes, device-lost detection, the buffer pool, the pipeline cache, the call queue and GPU memory
// accounting. The public Engine (src/engine.ts) extends it with graphs and quantization; everything
// below the graph layer works on a GPUContext, so gpu/ imports nothing from the layers above it.
import { BufferPool } from './buffer-pool';
import { CallQueue } from './call-queue';
import { ConstantStore } from './constants';
import { DeviceLostError, DisposedError, GPUOpError, LimitError, ShapeError, WebGPUNLPError, formatShape } from '../errors';
import { PipelineCache } from './pipeline-cache';
import {
  Tensor,
  checkShape,
  dataMatches,
  dtypeOf,
  isPacked,
  numel,
  paddedBytes,
  storageLength,
  type AnyTypedArray,
  type DType,
} from './tensor';
import {
  acquire,
  type AdapterSummary,
  type ContextParts,
  type DeviceLostInfo,
  type EngineFeatures,
  type EngineOptions,
  type EngineStats,
  type TuningTable,
} from './acquire';

export type { AdapterSummary, ContextParts, DeviceLostInfo, EngineFeatures, EngineOptions, EngineStats, TuningTable } from './acquire';

// Usage and map-mode flags spelled as numbers: in Node, Dawn's GPUBufferUsage global may not be installed.
const MAP_READ = 0x0001;
const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const STORAGE = 0x0080;
const MAP_MODE_READ = 0x0001;
export const TENSOR_USAGE = STORAGE | COPY_SRC | COPY_DST;

export class GPUContext {
  readonly device: GPUDevice;
  readonly adapter: AdapterSummary;
  readonly label: string;
  private readonly ownsDevice: boolean;
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  readonly constants: ConstantStore;
  readonly stats: EngineStats = { buffersCreated: 0, pipelinesCreated: 0, bindGroupsCreated: 0, shaderModulesCreated: 0 };
  /** Resolves when the device is lost (including after dispose() of an owned device). */
  readonly lost: Promise<DeviceLostInfo>;
  readonly features: EngineFeatures;
  readonly tuning: TuningTable;
  readonly memoryBudget: number | undefined;
  private readonly bindingCap: number;
  private lostInfo: DeviceLostInfo | null = null;
  private disposed = false;
  private liveBuffers = new Map<GPUBuffer, number>();
  private allocatedBytes = 0;
  private readonly keepAlive: unknown[];

  protected constructor(parts: ContextParts) {
    const { device, options, languageFeatures, info } = parts;
    this.device = device;
    this.adapter = parts.adapter;
    this.label = parts.label;
    this.ownsDevice = parts.ownsDevice;
    this.keepAlive = parts.keepAlive;
    const f = device.features;
    const off = new Set(options.disableFeatures ?? []);
    this.features = {
      subgroups: f.has('subgroups') && !off.has('subgroups'),
      shaderF16: f.has('shader-f16') && !off.has('shaderF16'),
      timestampQuery: f.has('timestamp-query') && !off.has('timestampQuery'),
      packedDot4: !!languageFeatures?.has('packed_4x8_integer_dot_product') && !off.has('packedDot4'),
      subgroupMinSize: 0,
      subgroupId: f.has('subgroups') && !off.has('subgroups') && !!languageFeatures?.has('subgroup_id') && !off.has('subgroupId'),
    };
    const minSize = (info as (GPUAdapterInfo & { subgroupMinSize?: number }) | undefined)?.subgroupMinSize;
    if (this.features.subgroups && typeof minSize === 'number' && minSize > 0) this.features.subgroupMinSize = minSize;
    this.tuning = options.tuning ?? {};
    this.memoryBudget = options.memoryBudget;
    this.bindingCap = options.maxBindingSize ?? Infinity;
    this.pool = new BufferPool({ create: (d) => this.createBuffer(d), destroy: (b) => this.destroyBuffer(b) }, options.poolBytes);
    this.pipelines = new PipelineCache(this);
    this.constants = new ConstantStore(this);
    this.lost = device.lost.then((info) => {
      this.lostInfo = { reason: String(info.reason), message: info.message };
      return this.lostInfo;
    });
  }

  protected static open(options: EngineOptions): Promise<ContextParts> {
    return acquire(options);
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  get isLost(): boolean {
    return this.lostInfo !== null;
  }

  private readonly queue = new CallQueue();

  /**
   * Runs `fn` after every piece of work enqueued before it has finished (plan runs, tensor reads and
   * deferred writes): work on one engine executes in call order, whichever plan or tensor it touches.
   * A failure does not stop the queue.
   */
  enqueue<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.run(fn);
  }

  /** True while enqueued work has not finished. */
  get busy(): boolean {
    return this.queue.busy;
  }

  /**
   * What a failed GPU call should raise: a DeviceLostError when the device was lost under it (an
   * in-flight mapAsync or onSubmittedWorkDone rejects with a bare AbortError, and device.lost settles
   * a moment later), the library's own error as it is, anything else as a GPUOpError naming `use`.
   */
  async explainFailure(e: unknown, use: string): Promise<unknown> {
    if (e instanceof WebGPUNLPError && !(e instanceof GPUOpError)) return e;
    if (!this.lostInfo) await Promise.race([this.lost, new Promise((r) => setTimeout(r, 250))]);
    if (this.lostInfo) {
      return new DeviceLostError(
        `${use}: the GPU device was lost while this ran (${this.lostInfo.reason}: ${this.lostInfo.message}). Create a new Engine with Engine.create().`,
      );
    }
    if (e instanceof WebGPUNLPError) return e;
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return new GPUOpError(use, 'internal', message);
  }

  /** Throws DeviceLostError (or a disposed error) naming `use`. Called before any GPU work. */
  assertAlive(use: string): void {
    if (this.disposed) throw new DisposedError(`${use}: the engine was disposed`);
    if (this.lostInfo) {
      throw new DeviceLostError(
        `${use}: the GPU device was lost (${this.lostInfo.reason}: ${this.lostInfo.message}). Create a new Engine with Engine.create().`,
      );
    }
  }

  /** The most bytes one storage binding may hold: the device limit, or a lower cap the app set. */
  get maxBindingSize(): number {
    return Math.min(this.limits.maxStorageBufferBindingSize, this.bindingCap);
  }

  /** Throws LimitError if a buffer of `bytes` cannot be bound as storage on this device. */
  checkBindingSize(use: string, shape: readonly number[], bytes: number): void {
    const limit = this.maxBindingSize;
    if (bytes > limit) {
      throw new LimitError(
        `${use}: tensor ${formatShape(shape)} needs ${bytes} bytes, above this device's maxStorageBufferBindingSize of ${limit} bytes`,
      );
    }
    if (bytes > this.limits.maxBufferSize) {
      throw new LimitError(`${use}: tensor ${formatShape(shape)} needs ${bytes} bytes, above maxBufferSize ${this.limits.maxBufferSize}`);
    }
  }

  /** Every buffer the engine makes goes through here: counted, labelled and tracked for memory(). */
  createBuffer(desc: GPUBufferDescriptor): GPUBuffer {
    this.assertAlive(desc.label ?? 'createBuffer');
    const buffer = this.device.createBuffer(desc);
    this.stats.buffersCreated++;
    this.liveBuffers.set(buffer, buffer.size);
    this.allocatedBytes += buffer.size;
    return buffer;
  }

  destroyBuffer(buffer: GPUBuffer): void {
    const size = this.liveBuffers.get(buffer);
    if (size === undefined) return;
    this.liveBuffers.delete(buffer);
    this.allocatedBytes -= size;
    buffer.destroy();
  }

  private dummy: GPUBuffer | null = null;

  /** A 16-byte storage buffer bound to optional bindings an op does not use. */
  dummyBuffer(): GPUBuffer {
    this.dummy ??= this.createBuffer({ label: 'unused optional binding', size: 16, usage: TENSOR_USAGE });
    return this.dummy;
  }

  /** GPU bytes in use (tensors, plans, weights) and held idle by the pool. */
  memory(): { liveBytes: number; pooledBytes: number; buffers: number } {
    return { liveBytes: this.allocatedBytes - this.pool.pooledBytes, pooledBytes: this.pool.pooledBytes, buffers: this.liveBuffers.size };
  }

  /**
   * Uploads data into a new tensor. `shape` defaults to `[data.length]`; `dtype` to the array's own. A
   * packed dtype ('f16', 'i8', 'i4') takes its u32 words: a Uint32Array of ceil(elements · bits / 32).
   */
  tensor(data: AnyTypedArray, shape?: readonly number[], label = 'tensor', dtype?: DType): Tensor {
    const own = dtypeOf(data);
    if (!own) throw new ShapeError(`engine.tensor '${label}': data must be a Float32Array, Uint32Array or Int32Array`);
    const type = dtype ?? own;
    if (!dataMatches(data, type))
      throw new ShapeError(
        `engine.tensor '${label}': ${own} data cannot hold ${type}${isPacked(type) ? ' (packed types take u32 words)' : ''}`,
      );
    const s = shape ?? [data.length];
    checkShape(s, `engine.tensor '${label}'`);
    if (storageLength(type, numel(s)) !== data.length) {
      throw new ShapeError(
        `engine.tensor '${label}': ${data.length} elements do not fill shape ${formatShape(s)} (${numel(s)} ${type}${isPacked(type) ? ` in ${storageLength(type, numel(s))} u32 words` : ' elements'})`,
      );
    }
    const t = this.empty(s, type, label);
    t.write(data);
    return t;
  }

  /** A new tensor of zeros at its exact size (not pooled). */
  empty(shape: readonly number[], dtype: DType = 'f32', label = 'tensor'): Tensor {
    checkShape(shape, `engine.empty '${label}'`);
    const bytes = paddedBytes(numel(shape), dtype);
    this.checkBindingSize(`tensor '${label}'`, shape, bytes);
    const buffer = this.createBuffer({ label, size: bytes, usage: TENSOR_USAGE });
    return new Tensor(this, buffer, shape, dtype, label, (b) => this.destroyBuffer(b));
  }

  /**
   * Runs `fn` (synchronous GPU calls) inside validation and out-of-memory error scopes and throws a
   * GPUOpError naming `label` if either caught something.
   */
  async scoped<T>(label: string, fn: () => T): Promise<T> {
    this.assertAlive(label);
    const device = this.device;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let result: T | undefined;
    let thrown: unknown = null;
    try {
      result = fn();
    } catch (e) {
      thrown = e;
    }
    const [v, o] = await Promise.all([device.popErrorScope(), device.popErrorScope()]);
    if (thrown) throw thrown;
    if (o) throw new GPUOpError(label, 'out-of-memory', o.message);
    if (v) throw new GPUOpError(label, 'validation', v.message);
    return result as T;
  }

  /**
   * Runs `submit` inside error scopes and maps `buffers` for reading right after it, so waiting for
   * the scopes' verdict and waiting for the GPU overlap (one round trip, not two in a row). On any
   * failure the buffers that did map are unmapped before the error is thrown.
   */
  async submitAndMap(label: string, submit: () => void, buffers: GPUBuffer[]): Promise<void> {
    const scope = this.scoped(label, submit);
    const maps = buffers.map((b) => b.mapAsync(MAP_MODE_READ));
    const [verdict, ...mapped] = await Promise.allSettled([scope, ...maps]);
    const failed = [verdict, ...mapped].find((r) => r.status === 'rejected');
    if (failed) {
      for (const [i, m] of mapped.entries()) if (m.status === 'fulfilled') buffers[i].unmap();
      throw (failed as PromiseRejectedResult).reason;
    }
  }

  /** Copies buffers to staging buffers, waits, and fills the given arrays. One submit for all. */
  async readBuffers(reads: { buffer: GPUBuffer; bytes: number; into: AnyTypedArray }[], label: string): Promise<void> {
    this.assertAlive(label);
    try {
      await this.readStaged(reads, label);
    } catch (e) {
      throw await this.explainFailure(e, label);
    }
  }

  private async readStaged(reads: { buffer: GPUBuffer; bytes: number; into: AnyTypedArray }[], label: string): Promise<void> {
    const staging = reads.map((r) => this.pool.acquire(r.bytes, MAP_READ | COPY_DST, `${label} staging`));
    try {
      await this.submitAndMap(
        label,
        () => {
          const enc = this.device.createCommandEncoder({ label });
          for (const [i, r] of reads.entries()) enc.copyBufferToBuffer(r.buffer, 0, staging[i], 0, Math.ceil(r.bytes / 4) * 4);
          this.device.queue.submit([enc.finish()]);
        },
        staging,
      );
      reads.forEach((r, i) => {
        const src = new Uint8Array(staging[i].getMappedRange(0, Math.ceil(r.bytes / 4) * 4), 0, r.bytes);
        new Uint8Array(r.into.buffer, r.into.byteOffset, r.bytes).set(src);
        staging[i].unmap();
      });
    } finally {
      for (const s of staging) this.pool.release(s);
    }
  }

  /** Destroys every buffer, and the device if the engine created it. A shared device stays alive. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool.trim();
    for (const b of [...this.liveBuffers.keys()]) this.destroyBuffer(b);
    if (this.ownsDevice) this.device.destroy();
  }
}
