// A benchmark suite: cases per kernel, each with our kernel and its peers as variants.
import type { Engine } from 'webgpu-nlp';
import type { Ort } from '../peers/ort';
import type { Tf } from '../peers/tfjs';
import type { Timing } from '../measure';

export interface BenchContext {
  engine: Engine;
  /** TensorFlow.js on the same device, when it started. */
  tf: Tf | null;
  /** onnxruntime-web on its WebGPU provider (browser only), when it started. */
  ort?: Ort | null;
  /** Where tools/make_gpt2_onnx.py's files are served (a URL ending in /), for the GPT-2 peer cases. */
  models?: string;
  /** Smaller case lists (CI smoke runs, SwiftShader). */
  quick: boolean;
  /** A new engine on the same GPU (its own pipeline cache), for cold-start cases; the caller disposes it. */
  newEngine?: () => Promise<Engine>;
}

/** A prepared runner: `run` does one timed call; `dispose` frees what setup made. */
export interface Runner {
  run(): Promise<unknown>;
  dispose(): void;
  /** Extra figures to report with the timing (e.g. bytes the variant allocates). */
  info?: Record<string, number>;
  /**
   * One run's result in our layout, for the check before timing: where the case has a tolerance,
   * every variant's output is compared with ours, and a wrong one is reported, not timed.
   */
  output?(): Promise<Float32Array>;
}

export interface Variant {
  /** 'ours', 'naive', 'tfjs', … */
  name: string;
  setup(ctx: BenchContext): Promise<Runner | null>;
}

export interface BenchCase {
  kernel: string;
  /** Shape label, e.g. '1024x1024x1024'. */
  size: string;
  flops: number;
  /** Minimum bytes the kernel must move. */
  bytes: number;
  variants: Variant[];
  /** For CPU-overhead cases: dispatches per run, so the table can show µs per dispatch. */
  dispatches?: number;
  /** For whole-model cases: tokens per run (1: a decode step, read in ms/token; more: tokens/s). */
  tokens?: number;
  /** Largest |peer − ours| allowed, relative to max |ours|, when variants give their output. */
  tolerance?: number;
  /**
   * The exact result (float64 on the CPU, in our layout). Where given, every variant, ours included,
   * is checked against it instead of against ours.
   */
  reference?(): Float64Array;
  /** Set up every variant first, then alternate their timed calls (for side-by-side peer cases). */
  interleave?: boolean;
}

export interface Suite {
  name: string;
  description: string;
  cases(ctx: BenchContext): BenchCase[];
}

export interface VariantResult extends Timing {
  variant: string;
  gflops: number;
  gbps: number;
  info?: Record<string, number>;
}

export interface CaseResult {
  suite: string;
  kernel: string;
  size: string;
  flops: number;
  bytes: number;
  dispatches?: number;
  tokens?: number;
  results: VariantResult[];
  /** Variants that could not run here, with the reason. */
  skipped: { variant: string; reason: string }[];
  /** Variants whose output disagreed with the reference (or ours) beyond the tolerance: reported, never timed. */
  wrong?: { variant: string; maxError: number; tolerance: number }[];
}
