// Safetensors checkpoints as the encoder loaders read them: every shard as one name space, the base
// model's prefix found (or none: a bare model), LayerNorm's legacy gamma / beta names, and the small
// helpers the loaders share.
import { ShapeError } from '../errors';
import { SafetensorsFile } from '../io/safetensors';
import type { QuantScheme } from '../ops/quantize';

/** Safetensors files as one name space, with the prefix and legacy spellings resolved. */
export class Keys {
  private readonly where = new Map<string, SafetensorsFile>();
  /** The base model's prefix in these files: `base`, or '' for a bare model. */
  readonly prefix: string;

  /** The tensors of every shard; `probe` (e.g. 'embeddings.word_embeddings.weight') under `base` or bare. */
  constructor(
    bytes: Uint8Array | ArrayBuffer | (Uint8Array | ArrayBuffer)[],
    readonly type: string,
    base: string,
    probe: string,
  ) {
    for (const f of (Array.isArray(bytes) ? bytes : [bytes]).map((b) => SafetensorsFile.parse(b)))
      for (const name of f.entries.keys()) {
        if (this.where.has(name)) throw new ShapeError(`Encoder: tensor '${name}' appears in two shards`);
        this.where.set(name, f);
      }
    this.prefix = this.where.has(base + probe) ? base : this.where.has(probe) ? '' : base;
    if (!this.where.has(this.prefix + probe))
      throw new ShapeError(`Encoder (${type}): the checkpoint has no '${base}${probe}' (nor '${probe}'); is it a ${type} model?`);
  }

  /** The stored name: as given, else with LayerNorm's legacy gamma / beta. */
  private resolve(name: string): string | null {
    if (this.where.has(name)) return name;
    const legacy = name.replace(/\.weight$/, '.gamma').replace(/\.bias$/, '.beta');
    return /(LayerNorm|layer_norm)\.(weight|bias)$/.test(name) && this.where.has(legacy) ? legacy : null;
  }

  has(name: string): boolean {
    return this.resolve(name) !== null;
  }

  read(name: string, shape: number[]): Float32Array {
    const stored = this.resolve(name);
    if (!stored) throw new ShapeError(`Encoder (${this.type}): the checkpoint has no tensor '${name}'`);
    return this.where.get(stored)!.float32(stored, shape);
  }

  /** The stored shape of a tensor. */
  shape(name: string): readonly number[] {
    const stored = this.resolve(name);
    if (!stored) throw new ShapeError(`Encoder (${this.type}): the checkpoint has no tensor '${name}'`);
    return this.where.get(stored)!.get(stored).shape;
  }

  /** The storage dtype of a tensor ('F32', 'F16', 'BF16'). */
  dtype(name: string): string {
    const stored = this.resolve(name);
    return stored ? this.where.get(stored)!.get(stored).dtype : 'F32';
  }
}

/** A model's `weights` option (Llama's and Encoder's): how f32-decoded matrices are stored. */
export type WeightsChoice = 'auto' | 'f32' | 'f16' | 'bf16' | 'int8' | 'q4_0' | 'q4_k';

/** The scheme each `weights` option stores f32-decoded matrices in (undefined: f32); 'auto' is storeFor's. */
export const WEIGHT_STORE: Record<Exclude<WeightsChoice, 'auto'>, QuantScheme | undefined> = {
  f32: undefined,
  f16: 'f16',
  bf16: 'bf16',
  int8: 'q8_0',
  q4_0: 'q4_0',
  q4_k: 'q4_k',
};

/**
 * The scheme f32-decoded matrices are stored in (undefined: f32), for a `weights` option and the
 * storage type of the file's tensors: 'auto' keeps 16-bit files at 16 bits (f16, or bf16 whose range
 * f16 lacks) and f32 files in f32.
 */
export function storeFor(weights: WeightsChoice, fileType: string): QuantScheme | undefined {
  if (weights !== 'auto') return WEIGHT_STORE[weights];
  return fileType === 'F16' ? 'f16' : fileType === 'BF16' ? 'bf16' : undefined;
}

/**
 * The k-quants pack 256 weights a block: rows whose length is not a multiple of 256 (SmolLM2's 576)
 * take a 32-weight block instead, as llama-quantize falls back (llama-quant.cpp, llama_tensor_get_type's
 * convert_incompatible_tensor): q2_k, q3_k and iq4_xs → iq4_nl, q4_k → q5_0, q5_k → q5_1, q6_k → q8_0,
 * and f16 where the row is not a whole number of 32-weight blocks either (q5_0, q8_0 and f16 are packed
 * on the GPU; iq4_nl and q5_1 on the CPU).
 */
export function fitScheme(s: QuantScheme | undefined, K: number): QuantScheme | undefined {
  const fallback = s ? K_FALLBACK[s] : undefined;
  if (!fallback || K % 256 === 0) return s;
  return K % 32 === 0 ? fallback : 'f16';
}

const K_FALLBACK: Partial<Record<QuantScheme, QuantScheme>> = {
  q2_k: 'iq4_nl',
  q3_k: 'iq4_nl',
  iq4_xs: 'iq4_nl',
  q4_k: 'q5_0',
  q5_k: 'q5_1',
  q6_k: 'q8_0',
};

export function sameData(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(parts.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of parts) {
    out.set(x, at);
    at += x.length;
  }
  return out;
}
