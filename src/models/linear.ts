// A linear layer y = x·W (+ b) over weights in any stored format: f32 as [in, out] (GPT-2's Conv1D)
// or [out, in] (nn.Linear), or packed (QuantizedTensor: int8, 16-bit or llama.cpp's blocks, from
// engine.quantize or a GGUF file).
// Models hold Linear layers and never branch on the format; new formats (f16, 4-bit) and LoRA deltas
// plug in here.
import type { GPUContext } from '../gpu/engine';
import type { Tensor } from '../gpu/tensor';
import type { Graph, SymbolicTensor } from '../graph/graph';
import { quantize } from '../graph/quantize';
import { QuantizedTensor, type QuantScheme } from '../ops/quantize';
import type { Matrix } from './matrix';

export interface LinearOptions {
  /** 'KN' ([in, out], Conv1D, the default) or 'NK' ([out, in], nn.Linear): how `weights` is stored. */
  layout?: 'KN' | 'NK';
  bias?: Float32Array;
  /** Quantize the weights to int8 at load with this scheme. */
  quantize?: QuantScheme;
  label: string;
}

export class Linear {
  private constructor(
    readonly weight: Tensor | QuantizedTensor,
    readonly bias: Tensor | null,
    readonly layout: 'KN' | 'NK',
  ) {}

  /** Uploads (and, if asked, quantizes) `weights` of `inFeatures` × `outFeatures`; frees it all on failure. */
  static async load(engine: GPUContext, weights: Float32Array, inFeatures: number, outFeatures: number, o: LinearOptions): Promise<Linear> {
    const layout = o.layout ?? 'KN';
    const shape = layout === 'KN' ? [inFeatures, outFeatures] : [outFeatures, inFeatures];
    let weight: Tensor | QuantizedTensor | null = null;
    try {
      weight = o.quantize
        ? await quantize(engine, weights, { K: inFeatures, N: outFeatures, layout, scheme: o.quantize, label: `${o.label}.weight` })
        : engine.tensor(weights, shape, `${o.label}.weight`);
      const bias = o.bias ? engine.tensor(o.bias, [outFeatures], `${o.label}.bias`) : null;
      return new Linear(weight, bias, layout);
    } catch (e) {
      weight?.dispose();
      throw e;
    }
  }

  /**
   * A matrix in nn.Linear's layout ([out, in]): f32 uploaded as it is or packed with `quantize`, packed
   * data (a GGUF tensor) uploaded as it is.
   */
  static async fromMatrix(engine: GPUContext, m: Matrix, o: Omit<LinearOptions, 'layout'>): Promise<Linear> {
    if (m.kind === 'f32') return Linear.load(engine, m.data, m.K, m.N, { ...o, layout: 'NK' });
    const weight = QuantizedTensor.upload(engine, m.q, `${o.label}.weight`);
    try {
      return new Linear(weight, o.bias ? engine.tensor(o.bias, [m.N], `${o.label}.bias`) : null, 'NK');
    } catch (e) {
      weight.dispose();
      throw e;
    }
  }

  /**
   * x [..., in] → [..., out]; a bias, GELU or residual consumer folds into the kernel's epilogue. With
   * act 'swiglu' the rows are (gate, up) pairs and the result is silu(gate) · up, [..., out / 2].
   * `delta` [..., out] (a LoRA adapter's update, lora.ts) is added before the bias and activation.
   */
  apply(g: Graph, x: SymbolicTensor, o: { act?: 'swiglu'; delta?: SymbolicTensor } = {}): SymbolicTensor {
    const bias = this.bias ? g.weight(this.bias) : undefined;
    if (this.weight instanceof QuantizedTensor) return g.dequantMatmul(x, this.weight, { bias, ...o });
    return g.matmul(x, g.weight(this.weight), { bias, transposeB: this.layout === 'NK', ...o });
  }

  get byteLength(): number {
    return this.weight.byteLength + (this.bias?.byteLength ?? 0);
  }

  dispose(): void {
    this.weight.dispose();
    this.bias?.dispose();
  }
}
