// A bounds-checked safetensors reader: an 8-byte little-endian header length, a JSON header naming
// each tensor's dtype, shape and [begin, end) byte offsets into the data that follows. Every offset is
// checked against the file before anything is read; errors name the tensor and the offsets.
import { FormatError, ShapeError, formatShape } from '../errors';
import { f16ToF32 } from '../gpu/tensor';

export { f16ToF32 };

export type SafetensorsDType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'U32' | 'I16' | 'U16' | 'I8' | 'U8' | 'BOOL';

const ITEM_SIZE: Record<SafetensorsDType, number> = {
  F64: 8,
  I64: 8,
  F32: 4,
  I32: 4,
  U32: 4,
  F16: 2,
  BF16: 2,
  I16: 2,
  U16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Byte range within the whole file. */
  begin: number;
  end: number;
}

export class SafetensorsError extends FormatError {
  override name = 'SafetensorsError';
}

/**
 * Throws FormatError naming the first NaN or infinite value: a checkpoint holding one loads, but every
 * result computed from it is garbage (GPT-2 then samples nothing), so loaders refuse it by name.
 */
export function checkFinite(data: Float32Array, what: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new FormatError(`${what} holds ${data[i]} at element ${i}; a checkpoint's weights must be finite`);
  }
}

/**
 * The first key repeated inside one JSON object, or null. JSON.parse keeps the last silently; the
 * safetensors reference implementation refuses such a header, and so does this reader.
 */
export function duplicateJSONKey(json: string): string | null {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (j < json.length && json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top && expectKey) {
        const key = JSON.parse(json.slice(i, j + 1)) as string;
        if (top.has(key)) return key;
        top.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      expectKey = stack[stack.length - 1] !== null;
    }
  }
  return null;
}

export class SafetensorsFile {
  readonly entries = new Map<string, SafetensorsEntry>();
  readonly metadata: Record<string, string>;

  private constructor(
    private readonly bytes: Uint8Array,
    header: Record<string, unknown>,
    dataStart: number,
  ) {
    const meta = header.__metadata__;
    this.metadata = meta && typeof meta === 'object' ? (meta as Record<string, string>) : {};
    const dataLen = bytes.length - dataStart;
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (typeof t !== 'object' || t === null) throw new SafetensorsError(`safetensors: entry '${name}' is not an object`);
      const dtype = t.dtype as SafetensorsDType;
      if (typeof dtype !== 'string' || !Object.hasOwn(ITEM_SIZE, dtype)) {
        throw new SafetensorsError(
          `safetensors: tensor '${name}' has unknown dtype ${typeof t.dtype === 'string' ? `'${t.dtype}'` : (JSON.stringify(t.dtype) ?? String(t.dtype))}; known: ${Object.keys(ITEM_SIZE).join(', ')}`,
        );
      }
      const shape = t.shape;
      if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
        throw new SafetensorsError(`safetensors: tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
      }
      const off = t.data_offsets;
      if (!Array.isArray(off) || off.length !== 2 || !off.every((x) => Number.isInteger(x) && x >= 0) || off[0] > off[1]) {
        throw new SafetensorsError(`safetensors: tensor '${name}' has invalid data_offsets ${JSON.stringify(off)}`);
      }
      const [b, e] = off as [number, number];
      if (e > dataLen) {
        throw new SafetensorsError(
          `safetensors: tensor '${name}' data_offsets [${b}, ${e}] run past the ${dataLen} bytes of data (file truncated?)`,
        );
      }
      const want = shape.reduce((a: number, d: number) => a * d, 1) * ITEM_SIZE[dtype];
      if (e - b !== want) {
        throw new SafetensorsError(
          `safetensors: tensor '${name}' ${dtype} ${formatShape(shape)} needs ${want} bytes, data_offsets [${b}, ${e}] hold ${e - b}`,
        );
      }
      this.entries.set(name, { name, dtype, shape, begin: dataStart + b, end: dataStart + e });
    }
    const sorted = [...this.entries.values()].sort((x, y) => x.begin - y.begin);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].begin < sorted[i - 1].end) {
        throw new SafetensorsError(
          `safetensors: tensors '${sorted[i - 1].name}' and '${sorted[i].name}' overlap at byte ${sorted[i].begin - dataStart}`,
        );
      }
    }
  }

  /** Parses and validates the header; the tensor data is read lazily. */
  static parse(input: Uint8Array | ArrayBuffer): SafetensorsFile {
    const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
    if (bytes.length < 8) throw new SafetensorsError(`safetensors: ${bytes.length} bytes is too short for the 8-byte header length`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const lo = view.getUint32(0, true);
    const hi = view.getUint32(4, true);
    const n = hi * 2 ** 32 + lo;
    if (n > bytes.length - 8)
      throw new SafetensorsError(`safetensors: header length ${n} runs past the end of the ${bytes.length}-byte file`);
    let header: unknown;
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
      header = JSON.parse(text);
    } catch (e) {
      throw new SafetensorsError(`safetensors: the ${n}-byte header is not valid UTF-8 JSON (${(e as Error).message})`);
    }
    const dup = duplicateJSONKey(text);
    if (dup !== null) throw new SafetensorsError(`safetensors: the header names '${dup}' twice`);
    if (typeof header !== 'object' || header === null || Array.isArray(header))
      throw new SafetensorsError('safetensors: the header is not a JSON object');
    return new SafetensorsFile(bytes, header as Record<string, unknown>, 8 + n);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  get(name: string): SafetensorsEntry {
    const e = this.entries.get(name);
    if (!e) throw new SafetensorsError(`safetensors: missing tensor '${name}'`);
    return e;
  }

  /** The tensor as float32 (F32 copied, F16 and BF16 widened), its shape checked when given. */
  float32(name: string, expectShape?: readonly number[]): Float32Array {
    const e = this.get(name);
    if (expectShape && (expectShape.length !== e.shape.length || expectShape.some((d, i) => d !== e.shape[i]))) {
      throw new ShapeError(`safetensors: tensor '${name}' is ${formatShape(e.shape)}, the config needs ${formatShape(expectShape)}`);
    }
    const n = e.shape.reduce((a, d) => a * d, 1);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + e.begin, e.end - e.begin);
    const out = new Float32Array(n);
    if (e.dtype === 'F32') for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
    else if (e.dtype === 'F16') for (let i = 0; i < n; i++) out[i] = f16ToF32(view.getUint16(2 * i, true));
    else if (e.dtype === 'BF16') {
      const u = new Uint32Array(1);
      const f = new Float32Array(u.buffer);
      for (let i = 0; i < n; i++) {
        u[0] = view.getUint16(2 * i, true) << 16;
        out[i] = f[0];
      }
    } else throw new SafetensorsError(`safetensors: tensor '${name}' is ${e.dtype}; float weights (F32, F16, BF16) are expected`);
    checkFinite(out, `safetensors: tensor '${name}'`);
    return out;
  }
}
