// A tensor is a shape, a dtype and a GPU buffer. f32 for activations and weights, u32/i32 for token ids,
// and packed storage types for weights read by dequantising kernels: f16 (two per u32 word), i8 (four)
// and i4 (eight), packed along the last dimension. Every byte count comes from the dtype.
import type { GPUContext } from './engine';
import { DisposedError, ShapeError, formatShape } from '../errors';

export type DType = 'f32' | 'u32' | 'i32' | 'f16' | 'i8' | 'i4';
export type TypedArrayFor<D extends DType> = D extends 'f32' ? Float32Array : D extends 'i32' ? Int32Array : Uint32Array;
export type AnyTypedArray = Float32Array | Uint32Array | Int32Array;

/** Bits one element takes in GPU memory. */
export const DTYPE_BITS: Readonly<Record<DType, number>> = { f32: 32, u32: 32, i32: 32, f16: 16, i8: 8, i4: 4 };

/** Packed types travel between the CPU and the GPU as their u32 words. */
export function isPacked(dtype: DType): boolean {
  return DTYPE_BITS[dtype] < 32;
}

/** Array elements that hold `n` elements of `dtype`: n for 32-bit types, u32 words for packed ones. */
export function storageLength(dtype: DType, n: number): number {
  return Math.ceil((n * DTYPE_BITS[dtype]) / 32);
}

/** Bytes that hold `n` elements of `dtype` (whole u32 words). */
export function byteSize(n: number, dtype: DType = 'f32'): number {
  return 4 * storageLength(dtype, n);
}

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

/** A CPU array for `n` elements of `dtype` (u32 words for packed types). */
export function arrayFor(dtype: DType, n: number): AnyTypedArray {
  if (dtype === 'f32') return new Float32Array(n);
  if (dtype === 'i32') return new Int32Array(n);
  return new Uint32Array(storageLength(dtype, n));
}

/**
 * A copy of a typed array (the values at call time). The copy constructor, not `slice()`: in Node 20's
 * V8, `slice()` of a 9.4 MB Float32Array measured anywhere from 1 to 32 ms across runs, the
 * constructor 0.5-1 ms, and plan.run copies every array it is fed.
 */
export function copyOf<T extends AnyTypedArray>(a: T): T {
  if (a instanceof Float32Array) return new Float32Array(a) as T;
  if (a instanceof Int32Array) return new Int32Array(a) as T;
  return new Uint32Array(a) as T;
}

export function dtypeOf(data: ArrayBufferView): DType | undefined {
  if (data instanceof Float32Array) return 'f32';
  if (data instanceof Uint32Array) return 'u32';
  if (data instanceof Int32Array) return 'i32';
  return undefined;
}

/** IEEE half (its 16 bits) to float. */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Float to IEEE half bits, rounding to nearest even (as WGSL's pack2x16float does); overflow gives ±∞. */
export function f32ToF16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const e = (b >>> 23) & 0xff;
  const m = b & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0); // ∞ or NaN
  const half = e - 127 + 15;
  if (half >= 31) return sign | 0x7c00;
  if (half <= 0) {
    if (half < -10) return sign; // below half the smallest subnormal: ±0
    const mm = m | 0x800000; // the implicit 1
    const shift = 14 - half;
    let v = mm >>> shift;
    const rest = mm & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && v & 1)) v++;
    return sign | v;
  }
  let v = (half << 10) | (m >>> 13);
  const rest = m & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && v & 1)) v++; // may carry into the exponent, up to ∞: correct
  return sign | v;
}

/** Float to bfloat16 bits (the top half of the f32), rounding to nearest even; NaN stays NaN. */
export function f32ToBf16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff; // quiet NaN
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** bfloat16 bits to float (exact). */
export function bf16ToF32(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Whether CPU data fits a tensor of `dtype`: its own typed array, or u32 words for a packed type. */
export function dataMatches(data: AnyTypedArray, dtype: DType): boolean {
  return dtypeOf(data) === (isPacked(dtype) ? 'u32' : dtype);
}

/** Buffer sizes are padded to 16 bytes so vec4 bindings always fit. */
export function paddedBytes(elements: number, dtype: DType = 'f32'): number {
  return Math.ceil(byteSize(elements, dtype) / 16) * 16;
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
    return byteSize(this.size, this.dtype);
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
    const want = storageLength(this.dtype, this.size);
    if (data.length !== want || !dataMatches(data, this.dtype)) {
      const what = isPacked(this.dtype) ? `${want} u32 words (${this.size} ${this.dtype})` : `${want} ${this.dtype}`;
      throw new ShapeError(
        `Tensor.write '${this.label}': got ${data.length} ${dtypeOf(data) ?? 'untyped'} elements, shape ${formatShape(this.shape)} holds ${what}`,
      );
    }
    const queue = this.engine.device.queue;
    if (!this.engine.busy) {
      queue.writeBuffer(this.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
      return;
    }
    // Runs enqueued before this call have not been submitted yet: write after them, from a copy taken
    // now, so they see the old contents and later runs the new ones (call order, as for plan.run).
    const copy = copyOf(data);
    void this.engine
      .enqueue(async () => {
        if (!this.disposed) queue.writeBuffer(this.buffer, 0, copy.buffer, 0, copy.byteLength);
      })
      .catch(() => undefined); // a lost device surfaces at the next run or read
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
