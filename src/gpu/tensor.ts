// A tensor is a shape, a dtype and a GPU buffer. f32 for activations and weights, u32/i32 for token ids.
import type { GPUContext } from './engine';
import { DisposedError, ShapeError, formatShape } from '../errors';

export type DType = 'f32' | 'u32' | 'i32';
export type TypedArrayFor<D extends DType> = D extends 'f32' ? Float32Array : D extends 'u32' ? Uint32Array : Int32Array;
export type AnyTypedArray = Float32Array | Uint32Array | Int32Array;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(shape: readonly number[], context: string): void {
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ShapeError(`${context}: shape ${formatShape(shape ?? [])} must be a non-empty list of positive integers`);
  }
}

export function arrayFor(dtype: DType, n: number): AnyTypedArray {
  return dtype === 'f32' ? new Float32Array(n) : dtype === 'u32' ? new Uint32Array(n) : new Int32Array(n);
}

export function dtypeOf(data: ArrayBufferView): DType | undefined {
  if (data instanceof Float32Array) return 'f32';
  if (data instanceof Uint32Array) return 'u32';
  if (data instanceof Int32Array) return 'i32';
  return undefined;
}

/** Buffer sizes are padded to 16 bytes so vec4 bindings always fit. */
export function paddedBytes(elements: number): number {
  return Math.ceil((elements * 4) / 16) * 16;
}

export class Tensor {
  private disposed = false;

  /** @internal Tensors are made by `engine.tensor()`, `engine.empty()` or plans. */
  constructor(
    readonly engine: GPUContext,
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly label: string,
    private readonly release: ((buffer: GPUBuffer) => void) | null,
  ) {}

  get size(): number {
    return numel(this.shape);
  }

  get byteLength(): number {
    return this.size * 4;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Throws if the tensor was disposed; `use` names the operation that wanted it. */
  assertAlive(use: string): void {
    if (this.disposed) throw new DisposedError(`${use}: tensor '${this.label}' ${formatShape(this.shape)} was used after dispose()`);
  }

  /** Copies `data` into the tensor's buffer (the length must match). */
  write(data: AnyTypedArray): void {
    this.assertAlive('Tensor.write');
    if (data.length !== this.size) {
      throw new ShapeError(`Tensor.write '${this.label}': got ${data.length} elements, shape ${formatShape(this.shape)} holds ${this.size}`);
    }
    const queue = this.engine.device.queue;
    if (!this.engine.busy) {
      queue.writeBuffer(this.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
      return;
    }
    // Runs enqueued before this call have not been submitted yet: write after them, from a copy taken
    // now, so they see the old contents and later runs the new ones (call order, as for plan.run).
    const copy = data.slice();
    void this.engine.enqueue(async () => {
      if (!this.disposed) queue.writeBuffer(this.buffer, 0, copy.buffer, 0, copy.byteLength);
    }).catch(() => undefined); // a lost device surfaces at the next run or read
  }

  /** Reads the tensor back through a staging buffer. */
  async read(): Promise<AnyTypedArray> {
    this.assertAlive('Tensor.read');
    const out = arrayFor(this.dtype, this.size);
    // In call order with plan runs: the read sees every run enqueued before it.
    await this.engine.enqueue(() => {
      this.assertAlive('Tensor.read');
      return this.engine.readBuffers([{ buffer: this.buffer, bytes: this.byteLength, into: out }], `read ${this.label}`);
    });
    return out;
  }

  /** Frees the GPU memory (owned tensors) or returns it to the pool. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.release?.(this.buffer);
  }
}
