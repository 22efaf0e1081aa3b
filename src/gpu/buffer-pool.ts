// Buffer pool keyed by (usage, size class). Intermediates and staging buffers are recycled instead of
// created and destroyed per plan; weights are allocated at their exact size and never pooled. The pool
// holds at most `maxBytes` idle: past that, the buffers idle longest are destroyed.

/** Size classes: powers of two up to 4 KiB, then steps of 1/8 of the next power of two (≤ 12.5% waste). */
export function sizeClass(bytes: number): number {
  const n = Math.max(16, Math.ceil(bytes));
  const pow = 2 ** Math.ceil(Math.log2(n));
  if (pow <= 4096) return pow;
  const step = pow / 8;
  return Math.ceil(n / step) * step;
}

export interface BufferAllocator {
  /** Creates a buffer (counted by the engine's statistics). */
  create(desc: GPUBufferDescriptor): GPUBuffer;
  /** Destroys a buffer made by create() (and takes it out of the engine's accounting). */
  destroy(buffer: GPUBuffer): void;
}

/** Idle bytes a pool keeps by default. */
export const DEFAULT_POOL_BYTES = 256 * 2 ** 20;

export class BufferPool {
  private free = new Map<string, GPUBuffer[]>();
  /** Idle buffers, oldest first, for eviction. */
  private idle = new Set<GPUBuffer>();
  private pooled = 0;

  constructor(
    private readonly alloc: BufferAllocator,
    readonly maxBytes = DEFAULT_POOL_BYTES,
  ) {}

  /** A buffer with at least `bytes` bytes and exactly `usage`. Its label is set to `label`. */
  acquire(bytes: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(`${usage}:${size}`);
    const buffer = list?.pop();
    if (buffer) {
      this.idle.delete(buffer);
      this.pooled -= buffer.size;
      buffer.label = label;
      return buffer;
    }
    return this.alloc.create({ label, size, usage });
  }

  /** Returns a buffer obtained from acquire() to the pool. */
  release(buffer: GPUBuffer): void {
    const key = `${buffer.usage}:${buffer.size}`;
    let list = this.free.get(key);
    if (!list) {
      list = [];
      this.free.set(key, list);
    }
    buffer.label = `pooled(${buffer.size})`;
    list.push(buffer);
    this.idle.add(buffer);
    this.pooled += buffer.size;
    for (const old of this.idle) {
      if (this.pooled <= this.maxBytes) break;
      this.evict(old);
    }
  }

  private evict(buffer: GPUBuffer): void {
    const list = this.free.get(`${buffer.usage}:${buffer.size}`)!;
    list.splice(list.indexOf(buffer), 1);
    this.idle.delete(buffer);
    this.pooled -= buffer.size;
    this.alloc.destroy(buffer);
  }

  /** Bytes held by the pool, not in use. */
  get pooledBytes(): number {
    return this.pooled;
  }

  /** Destroys every pooled buffer. */
  trim(): number {
    const n = this.idle.size;
    for (const b of [...this.idle]) this.evict(b);
    return n;
  }
}
