// The op descriptor: everything the scheduler needs to know about one op, and its CPU reference.
import type { ShaderSource } from '../gpu/pipeline-cache';
import type { EngineFeatures } from '../gpu/engine';
import { ArgumentError } from '../errors';
import type { DType } from '../gpu/tensor';

export interface TensorInfo {
  shape: readonly number[];
  dtype: DType;
}

/** A per-run scalar (position, current length) that a uniform field reads: value = scalar * scale + add. */
export interface ScalarRef {
  scalar: string;
  scale?: number;
  add?: number;
}

export type UniformValue = number | ScalarRef;

/**
 * The values of an op's inputs by name (see OpDescriptor.inputs): `values` are the present inputs in
 * declared order, optional ones present when their attribute is set.
 */
export function inputsByName<T>(names: readonly string[], attrs: object, values: readonly T[]): Record<string, T | undefined> {
  return Object.fromEntries(presentNames(names, attrs).map((n, i) => [n, values[i]]));
}

/** The declared input names present with these attributes (an optional 'x?' when attrs.x is set), '?' dropped. */
export function presentNames(names: readonly string[], attrs: object): string[] {
  return names.filter((n) => !n.endsWith('?') || (attrs as Record<string, unknown>)[n.slice(0, -1)]).map((n) => n.replace(/\?$/, ''));
}

/** Throws ArgumentError unless `v` is a non-negative integer or a scalar reference (from g.scalar()). */
export function checkUniformValue(op: string, name: string, v: UniformValue | undefined): void {
  if (v === undefined) return;
  if (typeof v === 'number') {
    if (!(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) throw new ArgumentError(`${op}: ${name} ${v} must be a non-negative integer`);
    return;
  }
  const ref = v as Partial<ScalarRef> | null;
  const ok =
    typeof ref === 'object' &&
    ref !== null &&
    typeof ref.scalar === 'string' &&
    (ref.scale === undefined || Number.isFinite(ref.scale)) &&
    (ref.add === undefined || Number.isFinite(ref.add));
  if (!ok) throw new ArgumentError(`${op}: ${name} must be a number or a g.scalar() reference, got ${JSON.stringify(v)}`);
}

/** Best override constants per (adapter, op, shape class), as measured by the autotuner. */
export type { TuningTable } from '../gpu/engine';
import type { TuningTable } from '../gpu/engine';

export interface KernelContext {
  limits: GPUSupportedLimits;
  features: EngineFeatures;
  tuning: TuningTable;
}

/**
 * A variant of an op's WGSL: the libraries that serve some of its imports instead of the defaults
 * (`{ 'lib/kv': 'lib/kv_half' }` for caches of packed halves), named by `suffix` in pipeline keys and
 * labels. compose() resolves the aliases; one compile per variant, never per shape.
 */
export interface ShaderVariant {
  aliases: Record<string, string>;
  /** Appended to the shader's name, e.g. '+kv_half'. */
  suffix: string;
}

/** The variants' aliases together (later ones win), or undefined when none is given. */
export function joinVariants(...parts: (ShaderVariant | undefined)[]): ShaderVariant | undefined {
  const given = parts.filter((p): p is ShaderVariant => !!p);
  if (!given.length) return undefined;
  return { aliases: Object.assign({}, ...given.map((p) => p.aliases)), suffix: given.map((p) => p.suffix).join('') };
}

/** How one node runs: which entry point, constants, uniform values and workgroup grid. */
export interface KernelCall {
  entry: string;
  /** The shader variant for these inputs (an op whose `shader` is a function receives it). */
  variant?: ShaderVariant;
  constants?: Record<string, number>;
  uniforms?: Record<string, UniformValue>;
  grid: readonly [number, number, number];
  /**
   * Valid values of uniform fields that a per-run scalar may feed (an offset, a position, a length),
   * e.g. `{ offset: { min: 0, max: 12, what: 'write offset' } }`. The plan checks the scalar's value
   * against them at run(), on the CPU, before anything is encoded; a constant value is checked by infer.
   */
  ranges?: Record<string, { min: number; max: number; what: string }>;
}

/** An op's descriptor; A is its attributes' type (OpAttrs in registry.ts lists them by op name). */
export interface OpDescriptor<A = unknown> extends FusibleOp<A> {
  name: string;
  /**
   * The op's inputs by name, in the order the graph passes them. An optional input ends in '?' and is
   * present when the attribute of the same name is true (matmul's 'bias?' with attrs.bias). The plan
   * binds each storage binding of the entry point by its WGSL variable name: `bias`, or a view of it
   * (`bias4`, `bias1`, `bias_in`), reads input 'bias'; an absent optional input gets a 16-byte dummy
   * buffer; the entry's last binding is the output. An input with no binding of its own (the state an
   * in-place op writes) is fine.
   */
  inputs: readonly string[];
  /**
   * The WGSL, or a choice of it per device (e.g. with or without subgroup operations) and per the
   * variant the kernel call names (its `variant`: which library serves an import, e.g. lib/kv_half).
   */
  shader: ShaderSource | ((ctx: KernelContext, variant?: ShaderVariant) => ShaderSource);
  /** Output shape and dtype; throws ShapeError naming the op and the shapes. */
  infer(inputs: readonly TensorInfo[], attrs: A): TensorInfo;
  /** Picks the kernel for these shapes: entry point, override constants, uniforms and grid. */
  kernel(inputs: readonly TensorInfo[], output: TensorInfo, attrs: A, ctx: KernelContext): KernelCall;
  /** The float64 CPU reference with the same semantics. */
  reference(inputs: readonly Float64Array[], infos: readonly TensorInfo[], attrs: A): Float64Array;
  /** Floating-point operations, for benchmarks. */
  flops?(inputs: readonly TensorInfo[], output: TensorInfo, attrs: A): number;
  /** Minimum bytes the op must move (read inputs once, write output once), for benchmarks. */
  bytes?(inputs: readonly TensorInfo[], output: TensorInfo, attrs: A): number;
}

/** What a consumer of an op's output looks like, for epilogue fusion. */
export interface EpilogueCandidate {
  /** The consumer's op name, e.g. 'add' or 'gelu'. */
  op: string;
  /** The consumer's other operand, if it has one (the bias or residual). */
  other?: TensorInfo;
}

export interface FusibleOp<A> {
  /**
   * Folds an element-wise consumer into this op's epilogue: returns the new attrs (the other operand,
   * if any, is appended to the node's inputs) or null when it cannot be folded.
   */
  fuseEpilogue?(attrs: A, output: TensorInfo, consumer: EpilogueCandidate): A | null;
}
