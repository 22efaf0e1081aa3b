// splitHeads: a column range of [T, row] activations → [H, T, D] (part 0/1/2 of a fused QKV projection,
// or any offset: GQA's q, k and v have different head counts), optionally rotating each head by RoPE on
// the way (no separate pass); mergeHeads: [H, T, D] → [T, H * D]. Kernel: shaders/heads.wgsl.
import { compose } from '../wgsl/compose';
import { ShapeError, formatShape } from '../errors';
import { numel } from '../gpu/tensor';
import { grid1D } from './grid';
import { checkUniformValue, type OpDescriptor, type UniformValue } from './types';

const WG = 256;
const shader = compose('heads');

export interface SplitHeadsAttrs {
  heads: number;
  /** How many [T, C] blocks the row holds (3 for fused QKV) and which one to take. */
  parts: number;
  part: number;
  /** Instead of parts: the head size and the first column (q, k and v of unequal widths). */
  headDim?: number;
  offset?: number;
  /** Output head h reads input head h / group (KV heads repeated for grouped-query attention; default 1). */
  group?: number;
  /**
   * Rotary position embedding, Hugging Face's rotate-half layout: inputs rope_cos and rope_sin
   * [P, D / 2] (the angles of positions 0..P-1, see ropeTables) follow x, and token t is at position
   * pos + t (a number or a plan scalar).
   */
  rope_cos?: boolean;
  rope_sin?: boolean;
  pos?: UniformValue;
}

/** The [T, row] input's columns this split reads: C = heads · D starting at col0. */
function columns(row: number, a: SplitHeadsAttrs): { C: number; D: number; col0: number } {
  if (a.headDim !== undefined) return { C: (a.heads / (a.group ?? 1)) * a.headDim, D: a.headDim, col0: a.offset ?? 0 };
  const C = row / a.parts;
  return { C, D: C / a.heads, col0: a.part * C };
}

export const splitHeads: OpDescriptor<SplitHeadsAttrs> = {
  name: 'split_heads',
  inputs: ['x', 'rope_cos?', 'rope_sin?'],
  shader,
  infer([x, cos, sin], a) {
    if (x?.shape.length !== 2) throw new ShapeError(`split_heads: input must be [T, C], got ${x ? formatShape(x.shape) : 'nothing'}`);
    const { C, D, col0 } = columns(x.shape[1], a);
    if (!(Number.isInteger(a.group ?? 1) && (a.group ?? 1) >= 1 && a.heads % (a.group ?? 1) === 0))
      throw new ShapeError(`split_heads: ${a.heads} heads are not whole groups of ${a.group}`);
    if (
      !Number.isInteger(D) ||
      D < 1 ||
      col0 < 0 ||
      col0 + C > x.shape[1] ||
      (a.headDim === undefined && !(a.part >= 0 && a.part < a.parts))
    ) {
      throw new ShapeError(
        a.headDim === undefined
          ? `split_heads: ${formatShape(x.shape)} does not split into ${a.parts} parts of ${a.heads} heads (part ${a.part})`
          : `split_heads: ${a.heads} heads of ${a.headDim} from column ${col0} do not fit ${formatShape(x.shape)}`,
      );
    }
    if (a.rope_cos) {
      if (D % 2 !== 0) throw new ShapeError(`split_heads: RoPE needs an even head dim, got ${D}`);
      for (const [name, t] of [
        ['rope_cos', cos],
        ['rope_sin', sin],
      ] as const) {
        if (t?.dtype !== 'f32' || t.shape.length !== 2 || t.shape[1] !== D / 2)
          throw new ShapeError(`split_heads: ${name} must be f32 [P, ${D / 2}], got ${t ? formatShape(t.shape) : 'nothing'}`);
      }
      if (cos!.shape[0] !== sin!.shape[0]) throw new ShapeError('split_heads: rope_cos and rope_sin must have the same rows');
      checkUniformValue('split_heads', 'pos', a.pos);
      if (typeof a.pos === 'number' && a.pos + x.shape[0] > cos!.shape[0])
        throw new ShapeError(
          `split_heads: positions ${a.pos}..${a.pos + x.shape[0] - 1} exceed the ${cos!.shape[0]} rows of the RoPE tables`,
        );
    }
    return { shape: [a.heads, x.shape[0], D], dtype: x.dtype };
  },
  kernel(inputs, out, a, ctx) {
    const [x, cos] = inputs;
    const [H, T, D] = out.shape;
    const P = cos ? cos.shape[0] : 0;
    return {
      entry: 'split_heads',
      constants: { WG, ROPE: a.rope_cos ? 1 : 0 },
      uniforms: { T, H, D, row: x.shape[1], col0: columns(x.shape[1], a).col0, pos: a.pos ?? 0, P, group: a.group ?? 1 },
      grid: grid1D(H * T * D, WG, ctx.limits),
      ...(a.rope_cos
        ? { ranges: { pos: { min: 0, max: P - T, what: `first position (${T} tokens, ${P} rows of the RoPE tables)` } } }
        : {}),
    };
  },
  reference([x, cos, sin], [info], a) {
    const [T, row] = info.shape;
    const { D, col0 } = columns(row, a);
    const pos = typeof a.pos === 'number' ? a.pos : 0;
    const half = D / 2;
    const out = new Float64Array(a.heads * T * D);
    for (let h = 0; h < a.heads; h++)
      for (let t = 0; t < T; t++) {
        const at = (d: number) => x[t * row + col0 + Math.floor(h / (a.group ?? 1)) * D + d];
        for (let d = 0; d < D; d++) {
          let v = at(d);
          if (a.rope_cos) {
            const j = d % half;
            const [c, s] = [cos[(pos + t) * half + j], sin[(pos + t) * half + j]];
            v = d < half ? at(d) * c - at(d + half) * s : at(d) * c + at(d - half) * s;
          }
          out[(h * T + t) * D + d] = v;
        }
      }
    return out;
  },
  bytes: (_i, out) => 2 * numel(out.shape) * 4,
};

/**
 * RoPE angle tables for positions 0..P-1, [P, D / 2] each, computed in float64 and rounded once (the
 * kernels do no trigonometry). `invFreq` [D / 2] is the inverse frequency of each rotated pair.
 */
export function ropeTables(invFreq: ArrayLike<number>, P: number): { cos: Float32Array; sin: Float32Array } {
  const half = invFreq.length;
  const cos = new Float32Array(P * half);
  const sin = new Float32Array(P * half);
  for (let p = 0; p < P; p++) {
    for (let j = 0; j < half; j++) {
      const angle = p * invFreq[j];
      cos[p * half + j] = Math.cos(angle);
      sin[p * half + j] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

export const mergeHeads: OpDescriptor<Record<string, never>> = {
  name: 'merge_heads',
  inputs: ['x'],
  shader,
  infer([x]) {
    if (x?.shape.length !== 3) throw new ShapeError(`merge_heads: input must be [H, T, D], got ${x ? formatShape(x.shape) : 'nothing'}`);
    const [H, T, D] = x.shape;
    return { shape: [T, H * D], dtype: x.dtype };
  },
  kernel([x], out, _a, ctx) {
    const [H, T, D] = x.shape;
    return {
      entry: 'merge_heads',
      constants: { WG },
      uniforms: { T, H, D, row: H * D, group: 1 },
      grid: grid1D(numel(out.shape), WG, ctx.limits),
    };
  },
  reference([x], [info]) {
    const [H, T, D] = info.shape;
    const out = new Float64Array(x.length);
    for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) out[t * H * D + h * D + d] = x[(h * T + t) * D + d];
    return out;
  },
  bytes: (_i, out) => 2 * numel(out.shape) * 4,
};
