// The public Engine: a GPU context (src/gpu/engine.ts: device, limits, buffers, pipelines, call
// order, device loss) plus what the layers above it offer, graphs and quantization. It lives at the
// top so that gpu/ imports nothing from graph/, ops/ or models/ (tests/unit/layers.test.ts checks).
import { GPUContext, type EngineOptions } from './gpu/engine';
import { Graph } from './graph/graph';
import { quantize, type QuantizeOptions } from './graph/quantize';
import type { QuantizedTensor } from './ops/quantize';

export class Engine extends GPUContext {
  /**
   * Acquires a device: the one given, or a new one from `gpu` (default `navigator.gpu`), asking the
   * adapter for its largest storage-binding, buffer and workgroup limits (or WebGPU's defaults with
   * `limits: 'default'`).
   */
  static async create(options: EngineOptions = {}): Promise<Engine> {
    return new Engine(await GPUContext.open(options));
  }

  /** A builder for a computation graph; compile it once, run it many times. */
  graph(label = 'graph'): Graph {
    this.assertAlive('engine.graph');
    return new Graph(this, label);
  }

  /** Quantizes f32 weights to int8 (q8_0 by default) on the GPU or the CPU. */
  quantize(weights: Float32Array, options: QuantizeOptions): Promise<QuantizedTensor> {
    this.assertAlive('engine.quantize');
    return quantize(this, weights, options);
  }
}
