// Buffer pool keyed by (usage, size class). Intermediates and staging buffers are recycled instead of
// created and destroyed per plan; weights are allocated at their exact size and never pooled.

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
}

export class BufferPool {
  private free = new Map<string, GPUBuffer[]>();
  private pooled = 0;

  constructor(private readonly alloc: BufferAllocator) {}

  /** A buffer with at least `bytes` bytes and exactly `usage`. Its label is set to `label`. */
  acquire(bytes: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(`${usage}:${size}`);
    const buffer = list?.pop();
    if (buffer) {
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
    if (!list) this.free.set(key, (list = []));
    buffer.label = `pooled(${buffer.size})`;
    list.push(buffer);
    this.pooled += buffer.size;
  }

  /** Bytes held by the pool, not in use. */
  get pooledBytes(): number {
    return this.pooled;
  }

  /** Destroys every pooled buffer. */
  trim(): number {
    let n = 0;
    for (const list of this.free.values()) for (const b of list.splice(0)) (b.destroy(), n++);
    this.pooled = 0;
    return n;
  }
}
