// A bounds-checked GGUF (v2/v3) reader for what this engine can use: the metadata, F32/F16 tensors, and
// Q8_0 matrices, which map one to one onto the engine's 'q8_0' int8 layout (32 int8 per block with an
// f16 scale; GGUF's ne[0] is K, ne[1] is N). Every read is checked against the file; errors name the
// tensor, the offset or the type.
import { FormatError } from '../gpu/errors';
import { f16ToF32 } from './safetensors';
import { quantLayout, type QuantizedData } from '../ops/quantize';

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

const TYPE_NAMES: Record<number, string> = { 0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 6: 'Q5_0', 7: 'Q5_1', 8: 'Q8_0', 9: 'Q8_1', 30: 'BF16' };
export type GGUFValue = number | bigint | boolean | string | GGUFValue[];

class Reader {
  p = 0;
  private view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number, what: string): void {
    if (this.p + n > this.bytes.length) throw new GGUFError(`gguf: ${what} at byte ${this.p} runs past the end of the ${this.bytes.length}-byte file`);
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
    const s = new TextDecoder('utf-8', { fatal: true }).decode(this.bytes.subarray(this.p, this.p + n));
    this.p += n;
    return s;
  }
  value(type: number, what: string): GGUFValue {
    const sizes: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
    if (type === 8) return this.string(what);
    if (type === 9) {
      const itemType = this.u32(`${what} item type`);
      const n = this.u64(`${what} count`);
      const out: GGUFValue[] = [];
      for (let i = 0; i < n; i++) out.push(this.value(itemType, `${what}[${i}]`));
      return out;
    }
    const size = sizes[type];
    if (size === undefined) throw new GGUFError(`gguf: ${what} has unknown value type ${type}`);
    this.need(size, what);
    const v = this.view;
    const at = this.p;
    this.p += size;
    switch (type) {
      case 0: return v.getUint8(at);
      case 1: return v.getInt8(at);
      case 2: return v.getUint16(at, true);
      case 3: return v.getInt16(at, true);
      case 4: return v.getUint32(at, true);
      case 5: return v.getInt32(at, true);
      case 6: return v.getFloat32(at, true);
      case 7: return v.getUint8(at) !== 0;
      case 10: return v.getBigUint64(at, true);
      case 11: return v.getBigInt64(at, true);
      default: return v.getFloat64(at, true);
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
      metadata.set(key, r.value(r.u32(`type of '${key}'`), `'${key}'`));
    }
    const infos: Omit<GGUFTensor, 'offset'>[] = [];
    const rel: number[] = [];
    for (let i = 0; i < nTensors; i++) {
      const name = r.string(`tensor name ${i}`);
      const nd = r.u32(`dimension count of '${name}'`);
      if (nd < 1 || nd > 4) throw new GGUFError(`gguf: tensor '${name}' has ${nd} dimensions`);
      const dims = Array.from({ length: nd }, (_, d) => r.u64(`dimension ${d} of '${name}'`));
      infos.push({ name, dims, type: r.u32(`type of '${name}'`) });
      rel.push(r.u64(`offset of '${name}'`));
    }
    const alignment = Number(metadata.get('general.alignment') ?? 32);
    const dataStart = Math.ceil(r.p / alignment) * alignment;
    const tensors = new Map<string, GGUFTensor>();
    infos.forEach((t, i) => {
      const offset = dataStart + rel[i];
      const size = GGUFFile.byteSize(t);
      if (size !== null && offset + size > bytes.length) {
        throw new GGUFError(`gguf: tensor '${t.name}' (${size} bytes at offset ${rel[i]}) runs past the end of the file (truncated?)`);
      }
      tensors.set(t.name, { ...t, offset });
    });
    return new GGUFFile(bytes, version, metadata, tensors);
  }

  private static byteSize(t: Omit<GGUFTensor, 'offset'>): number | null {
    const n = t.dims.reduce((a, b) => a * b, 1);
    if (t.type === 0) return 4 * n;
    if (t.type === 1) return 2 * n;
    if (t.type === 8) return (n / 32) * 34;
    return null;
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
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + t.offset);
    if (t.type === 0) return Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true));
    if (t.type === 1) return Float32Array.from({ length: n }, (_, i) => f16ToF32(view.getUint16(2 * i, true)));
    throw new GGUFError(`gguf: tensor '${name}' is ${TYPE_NAMES[t.type] ?? `type ${t.type}`}; only F32 and F16 read as floats`);
  }

  /** A 2-D Q8_0 tensor (ne[0] = K, ne[1] = N) in the engine's 'q8_0' layout, ready for QuantizedTensor.upload. */
  q8_0(name: string): QuantizedData {
    const t = this.get(name);
    if (t.type !== 8) throw new GGUFError(`gguf: tensor '${name}' is ${TYPE_NAMES[t.type] ?? `type ${t.type}`}, not Q8_0`);
    if (t.dims.length !== 2 || t.dims[0] % 32 !== 0) throw new GGUFError(`gguf: Q8_0 tensor '${name}' has dims [${t.dims}]; a matrix with ne[0] a multiple of 32 is expected`);
    const [K, N] = t.dims;
    const l = quantLayout('q8_0', K, N);
    const qweight = new Uint32Array(N * l.rowWords);
    const scales = new Float32Array(N * l.blocks);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + t.offset);
    for (let b = 0; b < N * l.blocks; b++) {
      scales[b] = f16ToF32(view.getUint16(34 * b, true));
      for (let w = 0; w < 8; w++) qweight[b * 8 + w] = view.getUint32(34 * b + 2 + 4 * w, true);
    }
    return { ...l, qweight, scales };
  }
}
