// A benchmark suite: cases per kernel, each with our kernel and its peers as variants.
import type { Engine } from 'webgpu-nlp';
import type { Tf } from '../peers/tfjs';
import type { Timing } from '../measure';

export interface BenchContext {
  engine: Engine;
  /** TensorFlow.js on the same device, when it started. */
  tf: Tf | null;
  /** Smaller case lists (CI smoke runs, SwiftShader). */
  quick: boolean;
}

/** A prepared runner: `run` does one timed call; `dispose` frees what setup made. */
export interface Runner {
  run(): Promise<unknown>;
  dispose(): void;
  /** Extra figures to report with the timing (e.g. bytes the variant allocates). */
  info?: Record<string, number>;
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
}
