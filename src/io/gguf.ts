// A bounds-checked GGUF (v2/v3) reader for what this engine can use: the metadata, F32/F16 tensors, and
// weight matrices for the packed schemes (GGUF's ne[0] is K, ne[1] is N): Q8_0, Q4_0, Q4_1, Q5_0, Q5_1,
// Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL and IQ4_XS keep their bytes as they are, F16/BF16 keep theirs two to a word. Every read is checked against the file; errors name the tensor, the offset or the type.
import { FormatError } from '../errors';
import { checkFinite, f16ToF32 } from './safetensors';
import { nonFiniteBlockScale, quantLayout, type QuantizedData } from '../ops/quantize';
import type { BlockScheme } from '../ops/ggml-blocks';

export class GGUFError extends FormatError {
  override name = 'GGUFError';
}

export interface GGUFTensor {
  name: string;
  /** ne[0] first (the fastest-varying dimension). */
  dims: number[];
  /** ggml type: 0 F32, 1 F16, 8 Q8_0, … */
  type: number;
  /** Absolute byte offset of the data in the file. */
  offset: number;
}

/**
 * ggml types by number, with [weights per block, bytes per block] where the layout is known (ggml.c's
 * type_traits: a Q4_K super-block is d and dmin as f16, 12 bytes of 6-bit scales and mins, 128 bytes of
 * nibbles). Used to check every tensor's extent against the file; IQ types other than IQ4_NL and IQ4_XS
 * have no size here.
 */
const TYPES: Record<number, [string, number, number] | [string]> = {
  0: ['F32', 1, 4],
  1: ['F16', 1, 2],
  2: ['Q4_0', 32, 18],
  3: ['Q4_1', 32, 20],
  6: ['Q5_0', 32, 22],
  7: ['Q5_1', 32, 24],
  8: ['Q8_0', 32, 34],
  9: ['Q8_1', 32, 36],
  10: ['Q2_K', 256, 84],
  11: ['Q3_K', 256, 110],
  12: ['Q4_K', 256, 144],
  13: ['Q5_K', 256, 176],
  14: ['Q6_K', 256, 210],
  15: ['Q8_K', 256, 292],
  16: ['IQ2_XXS'],
  17: ['IQ2_XS'],
  18: ['IQ3_XXS'],
  19: ['IQ1_S'],
  20: ['IQ4_NL', 32, 18],
  21: ['IQ3_S'],
  22: ['IQ2_S'],
  23: ['IQ4_XS', 256, 136],
  24: ['I8', 1, 1],
  25: ['I16', 1, 2],
  26: ['I32', 1, 4],
  27: ['I64', 1, 8],
  28: ['F64', 1, 8],
  29: ['IQ1_M'],
  30: ['BF16', 1, 2],
};

function typeName(type: number): string {
  return TYPES[type]?.[0] ?? `type ${type}`;
}

/** Nested arrays deeper than this are refused (llama.cpp reads none; this bounds the recursion). */
const MAX_ARRAY_DEPTH = 4;
/** Bytes each metadata value type takes at least (arrays: item type and count; strings: their length). */
const MIN_VALUE_BYTES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 8: 8, 9: 12, 10: 8, 11: 8, 12: 8 };
export type GGUFValue = number | bigint | boolean | string | GGUFValue[];

class Reader {
  p = 0;
  private view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number, what: string): void {
    if (this.p + n > this.bytes.length)
      throw new GGUFError(`gguf: ${what} at byte ${this.p} runs past the end of the ${this.bytes.length}-byte file`);
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.p, true);
    this.p += 4;
    return v;
  }
  u64(what: string): number {
    this.need(8, what);
    const v = this.view.getBigUint64(this.p, true);
    this.p += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new GGUFError(`gguf: ${what} ${v} is too large`);
    return Number(v);
  }
  string(what: string): string {
    const n = this.u64(`${what} length`);
    this.need(n, what);
    const at = this.p;
    let s: string;
    try {
      s = new TextDecoder('utf-8', { fatal: true }).decode(this.bytes.subarray(at, at + n));
    } catch {
      throw new GGUFError(`gguf: ${what} (${n} bytes at byte ${at}) is not valid UTF-8`);
    }
    this.p += n;
    return s;
  }
  value(type: number, what: string, depth = 0): GGUFValue {
    if (type === 8) return this.string(what);
    if (type === 9) {
      if (depth >= MAX_ARRAY_DEPTH) throw new GGUFError(`gguf: ${what} nests arrays more than ${MAX_ARRAY_DEPTH} deep`);
      const itemType = this.u32(`${what} item type`);
      const n = this.u64(`${what} count`);
      const min = MIN_VALUE_BYTES[itemType];
      if (min === undefined) throw new GGUFError(`gguf: ${what} has items of unknown value type ${itemType}`);
      this.need(n * min, `${what} (${n} items)`); // before any item is read
      const out: GGUFValue[] = [];
      for (let i = 0; i < n; i++) out.push(this.value(itemType, `${what}[${i}]`, depth + 1));
      return out;
    }
    const size = MIN_VALUE_BYTES[type];
    if (size === undefined) throw new GGUFError(`gguf: ${what} has unknown value type ${type}`);
    this.need(size, what);
    const v = this.view;
    const at = this.p;
    this.p += size;
    switch (type) {
      case 0:
        return v.getUint8(at);
      case 1:
        return v.getInt8(at);
      case 2:
        return v.getUint16(at, true);
      case 3:
        return v.getInt16(at, true);
      case 4:
        return v.getUint32(at, true);
      case 5:
        return v.getInt32(at, true);
      case 6:
        return v.getFloat32(at, true);
      case 7:
        return v.getUint8(at) !== 0;
      case 10:
        return v.getBigUint64(at, true);
      case 11:
        return v.getBigInt64(at, true);
      default:
        return v.getFloat64(at, true);
    }
  }
}

export class GGUFFile {
  private constructor(
    private readonly bytes: Uint8Array,
    readonly version: number,
    readonly metadata: Map<string, GGUFValue>,
    readonly tensors: Map<string, GGUFTensor>,
  ) {}

  /** How many tensors of each ggml type the file holds, e.g. { Q4_K: 97, Q6_K: 17, F32: 65 }: what a "Q4_K_M" file really is. */
  typeCounts(options: { matricesOnly?: boolean } = {}): Record<string, number> {
    const out: Record<string, number> = {};
    for (const t of this.tensors.values()) {
      if (options.matricesOnly && t.dims.filter((d) => d > 1).length < 2) continue;
      const name = typeName(t.type);
      out[name] = (out[name] ?? 0) + 1;
    }
    return out;
  }

  static parse(input: Uint8Array | ArrayBuffer): GGUFFile {
    const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
    const r = new Reader(bytes);
    if (r.u32('magic') !== 0x46554747) throw new GGUFError('gguf: not a GGUF file (the magic number is not "GGUF")');
    const version = r.u32('version');
    if (version !== 2 && version !== 3) throw new GGUFError(`gguf: version ${version} is not supported (2 or 3)`);
    const nTensors = r.u64('tensor count');
    const nKv = r.u64('metadata count');
    const metadata = new Map<string, GGUFValue>();
    for (let i = 0; i < nKv; i++) {
      const key = r.string(`metadata key ${i}`);
      if (metadata.has(key)) throw new GGUFError(`gguf: metadata key '${key}' appears twice (entry ${i})`);
      metadata.set(key, r.value(r.u32(`type of '${key}'`), `'${key}'`));
    }
    const alignment = GGUFFile.alignment(metadata);
    const infos: Omit<GGUFTensor, 'offset'>[] = [];
    const rel: number[] = [];
    const names = new Set<string>();
    for (let i = 0; i < nTensors; i++) {
      const name = r.string(`tensor name ${i}`);
      if (names.has(name)) throw new GGUFError(`gguf: tensor '${name}' appears twice (entry ${i})`);
      names.add(name);
      const nd = r.u32(`dimension count of '${name}'`);
      if (nd < 1 || nd > 4) throw new GGUFError(`gguf: tensor '${name}' has ${nd} dimensions (1 to 4 allowed)`);
      const dims = Array.from({ length: nd }, (_, d) => r.u64(`dimension ${d} of '${name}'`));
      infos.push({ name, dims, type: r.u32(`type of '${name}'`) });
      const offset = r.u64(`offset of '${name}'`);
      if (offset % alignment !== 0)
        throw new GGUFError(`gguf: tensor '${name}' starts at data offset ${offset}, not a multiple of the alignment ${alignment}`);
      rel.push(offset);
    }
    const dataStart = Math.ceil(r.p / alignment) * alignment;
    const tensors = new Map<string, GGUFTensor>();
    infos.forEach((t, i) => {
      const offset = dataStart + rel[i];
      const size = GGUFFile.byteSize(t);
      if (offset + (size ?? 0) > bytes.length) {
        throw new GGUFError(
          `gguf: tensor '${t.name}' (${size} bytes at data offset ${rel[i]}) runs past the end of the file (${bytes.length} bytes; truncated?)`,
        );
      }
      tensors.set(t.name, { ...t, offset });
    });
    return new GGUFFile(bytes, version, metadata, tensors);
  }

  /** general.alignment: a power of two as llama.cpp requires (default 32). */
  private static alignment(metadata: Map<string, GGUFValue>): number {
    const a = metadata.get('general.alignment');
    if (a === undefined) return 32;
    if (typeof a !== 'number' || !Number.isInteger(a) || a < 1 || a > 2 ** 30 || (a & (a - 1)) !== 0) {
      throw new GGUFError(`gguf: general.alignment must be a power of two, got ${typeof a === 'bigint' ? `${a}n` : JSON.stringify(a)}`);
    }
    return a;
  }

  /** Bytes of a tensor's data, or null for a type whose block size is not known here. */
  private static byteSize(t: Omit<GGUFTensor, 'offset'>): number | null {
    const n = t.dims.reduce((a, b) => a * b, 1);
    const ty = TYPES[t.type];
    if (!ty || ty.length === 1) return null;
    const [name, perBlock, blockBytes] = ty;
    if (t.dims[0] % perBlock !== 0) {
      throw new GGUFError(`gguf: tensor '${t.name}' is ${name} with ne[0] = ${t.dims[0]}, not a multiple of its block of ${perBlock}`);
    }
    return (n / perBlock) * blockBytes;
  }

  get(name: string): GGUFTensor {
    const t = this.tensors.get(name);
    if (!t) throw new GGUFError(`gguf: missing tensor '${name}'`);
    return t;
  }

  /** An F32 or F16 tensor as float32. */
  float32(name: string): Float32Array {
    const t = this.get(name);
    const n = t.dims.reduce((a, b) => a * b, 1);
    if (t.type !== 0 && t.type !== 1) throw new GGUFError(`gguf: tensor '${name}' is ${typeName(t.type)}; only F32 and F16 read as floats`);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + t.offset);
    let out: Float32Array;
    if (t.type === 0) out = Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true));
    else if (t.type === 1) out = Float32Array.from({ length: n }, (_, i) => f16ToF32(view.getUint16(2 * i, true)));
    else throw new GGUFError(`gguf: tensor '${name}' is ${typeName(t.type)}; only F32 and F16 read as floats`);
    checkFinite(out, `gguf: tensor '${name}'`);
    return out;
  }

  /** A 2-D Q8_0 tensor (ne[0] = K, ne[1] = N): its blocks as they are (the engine's 'q8_0'). */
  q8_0(name: string): QuantizedData {
    const t = this.get(name);
    if (t.type !== 8) throw new GGUFError(`gguf: tensor '${name}' is ${typeName(t.type)}, not Q8_0`);
    return this.blocks(t, 'q8_0');
  }

  /** A matrix of llama.cpp blocks (BLOCK_TYPES): its bytes copied as they are into words (the last one zero-padded). */
  private blocks(t: GGUFTensor, scheme: BlockScheme): QuantizedData {
    if (t.dims.length < 2 || !t.dims.slice(2).every((d) => d === 1)) {
      throw new GGUFError(`gguf: tensor '${t.name}' has dims [${t.dims}]; a matrix (ne[0] = K, ne[1] = N) is expected`);
    }
    const [K, N] = t.dims;
    const l = quantLayout(scheme, K, N); // ne[0] is a whole number of blocks: checked when the file was parsed
    const qweight = new Uint32Array(l.words);
    const bytes = new Uint8Array(qweight.buffer);
    bytes.set(this.bytes.subarray(t.offset, t.offset + l.N * l.rowBytes));
    const bad = nonFiniteBlockScale(scheme, bytes, l.N * l.rowBlocks);
    if (bad >= 0) {
      throw new GGUFError(
        `gguf: ${typeName(t.type)} tensor '${t.name}' has a non-finite f16 scale in block ${bad % l.rowBlocks} of row ${Math.floor(bad / l.rowBlocks)}`,
      );
    }
    return { ...l, qweight, scales: new Float32Array(0) };
  }

  /**
   * A 2-D weight matrix (ne[0] = K along a row, ne[1] = N rows) as packed data for
   * QuantizedTensor.upload and g.dequantMatmul, in the engine scheme that keeps its bytes: F16 → 'f16',
   * BF16 → 'bf16' (two per word; rows copied as they are when K is a multiple of 8, else padded),
   * the llama.cpp blocks of BLOCK_TYPES (Q8_0 → 'q8_0', Q4_K → 'q4_k', IQ4_XS → 'iq4_xs', …: the bytes as they are: one copy,
   * no repack). F32 tensors are read with
   * float32(). Any other type is an error naming the tensor, its type and what is supported.
   */
  quantized(name: string): QuantizedData {
    const t = this.get(name);
    const type = typeName(t.type);
    const block = BLOCK_TYPES[t.type];
    if (block) return this.blocks(t, block);
    if (t.type !== 1 && t.type !== 30) {
      const hint = t.type === 0 ? ' (read F32 tensors with float32())' : '';
      throw new GGUFError(`gguf: tensor '${name}' is ${type}; quantized() reads ${QUANTIZED_TYPES.join(', ')}${hint}`);
    }
    if (t.dims.length !== 2 && !(t.dims.length > 2 && t.dims.slice(2).every((d) => d === 1))) {
      throw new GGUFError(`gguf: tensor '${name}' has dims [${t.dims}]; a matrix (ne[0] = K, ne[1] = N) is expected`);
    }
    const [K, N] = t.dims;
    const l = quantLayout(t.type === 1 ? 'f16' : 'bf16', K, N);
    const qweight = new Uint32Array(N * l.rowWords);
    const src = new Uint8Array(this.bytes.buffer, this.bytes.byteOffset + t.offset, 2 * K * N);
    const dst = new Uint8Array(qweight.buffer);
    for (let n = 0; n < N; n++) dst.set(src.subarray(2 * K * n, 2 * K * (n + 1)), 4 * l.rowWords * n); // padding stays 0
    // An all-ones exponent is ±∞ or NaN: named, as float32() does.
    const inf = t.type === 1 ? 0x7c00 : 0x7f80;
    const halves = new Uint16Array(qweight.buffer);
    for (let i = 0; i < halves.length; i++) {
      if ((halves[i] & inf) === inf) {
        const k = i % (2 * l.rowWords);
        throw new GGUFError(
          `gguf: tensor '${name}' holds a non-finite ${type} value at row ${Math.floor(i / (2 * l.rowWords))}, column ${k}`,
        );
      }
    }
    return { ...l, qweight, scales: new Float32Array(0) };
  }
}

/** The GGUF types quantized() maps onto an engine scheme. */
const QUANTIZED_TYPES = ['F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'IQ4_NL', 'IQ4_XS'];

/** ggml types whose blocks the kernels read in place. */
const BLOCK_TYPES: Record<number, BlockScheme> = {
  2: 'q4_0',
  3: 'q4_1',
  6: 'q5_0',
  7: 'q5_1',
  8: 'q8_0',
  10: 'q2_k',
  11: 'q3_k',
  12: 'q4_k',
  13: 'q5_k',
  14: 'q6_k',
  20: 'iq4_nl',
  23: 'iq4_xs',
};
