// Weights uploaded once per engine and shared: two plans built from the same Float32Array (a prefill
// and a decode plan of one model) bind the same GPU buffer. Reference-counted; freed with the last plan.
import type { GPUContext } from './engine';
import type { AnyTypedArray, Tensor } from './tensor';

interface Entry {
  tensor: Tensor;
  refs: number;
}

export class ConstantStore {
  private entries = new WeakMap<AnyTypedArray, Entry>();

  constructor(private readonly engine: GPUContext) {}

  /** The uploaded tensor for `data` (uploading on first use); pair every call with release(). */
  acquire(data: AnyTypedArray, shape: readonly number[], label: string): Tensor {
    let e = this.entries.get(data);
    if (!e || e.tensor.isDisposed) {
      e = { tensor: this.engine.tensor(data, shape, label), refs: 0 };
      this.entries.set(data, e);
    }
    e.refs++;
    return e.tensor;
  }

  release(data: AnyTypedArray): void {
    const e = this.entries.get(data);
    if (!e) return;
    if (--e.refs === 0) {
      e.tensor.dispose();
      this.entries.delete(data);
    }
  }
}
