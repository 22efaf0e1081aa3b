import type { SafetensorsFile } from '../../src/index';
// Writers for small, valid files of every format the readers take (GGUF, safetensors, word2vec binary
// and text, GloVe), so tests can corrupt them byte by byte or field by field. GGUF follows the layout in
// llama.cpp's gguf.cpp / docs/gguf.md: magic, version, counts, key/value pairs, tensor infos, aligned data.

/** A GGUF metadata value with its type id (4 u32, 5 i32, 6 f32, 8 string, 9 array, 10 u64 …). */
export type GGUFMeta = [key: string, type: number, value: unknown, itemType?: number];

export interface GGUFTensorSpec {
  name: string;
  dims: number[];
  type: number;
  data: Uint8Array;
  /** Data offset to write instead of the packed one. */
  offset?: number;
}

class ByteWriter {
  private chunks: number[] = [];
  u8(v: number) {
    this.chunks.push(v & 0xff);
  }
  u32(v: number) {
    for (let i = 0; i < 4; i++) this.u8(v >>> (8 * i));
  }
  u64(v: number | bigint) {
    const b = BigInt(v);
    for (let i = 0n; i < 8n; i++) this.u8(Number((b >> (8n * i)) & 0xffn));
  }
  f32(v: number) {
    const b = new Uint8Array(new Float32Array([v]).buffer);
    for (const x of b) this.u8(x);
  }
  bytes(b: Uint8Array) {
    for (const x of b) this.u8(x);
  }
  string(s: string | Uint8Array) {
    const b = typeof s === 'string' ? new TextEncoder().encode(s) : s;
    this.u64(b.length);
    this.bytes(b);
  }
  value(type: number, v: unknown, itemType = 0) {
    switch (type) {
      case 0:
      case 7:
        return this.u8(Number(v));
      case 4:
      case 5:
        return this.u32(Number(v));
      case 6:
        return this.f32(Number(v));
      case 8:
        return this.string(v as string | Uint8Array);
      case 10:
      case 11:
        return this.u64(v as number);
      case 9: {
        const items = v as unknown[];
        this.u32(itemType);
        this.u64(items.length);
        for (const it of items) this.value(itemType, it);
        return;
      }
      default:
        throw new Error(`test writer: value type ${type}`);
    }
  }
  pad(alignment: number) {
    while (this.chunks.length % alignment) this.u8(0);
  }
  get length() {
    return this.chunks.length;
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

export function writeGGUF(meta: GGUFMeta[], tensors: GGUFTensorSpec[], alignment = 32): Uint8Array {
  const w = new ByteWriter();
  w.u32(0x46554747);
  w.u32(3);
  w.u64(tensors.length);
  w.u64(meta.length);
  for (const [key, type, value, itemType] of meta) {
    w.string(key);
    w.u32(type);
    w.value(type, value, itemType);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    w.string(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(t.type);
    offsets.push(offset);
    w.u64(t.offset ?? offset);
    offset += Math.ceil(t.data.length / alignment) * alignment;
  }
  w.pad(alignment);
  tensors.forEach((t, i) => {
    while (w.length % alignment || w.length < offsets[i]) w.u8(0);
    w.bytes(t.data);
  });
  w.pad(alignment);
  return w.finish();
}

export function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

/** A safetensors file from a header given as an object or as raw JSON text (e.g. with a repeated key). */
export function writeSafetensors(header: Record<string, unknown> | string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/**
 * A copy of a safetensors checkpoint as F32, each tensor passed through `map` (name, shape, values),
 * or only the tensors `names` lists (default all) — e.g. every matrix replaced by its rounded values.
 */
export function rewriteSafetensors(
  src: SafetensorsFile,
  map: (name: string, shape: number[], data: Float32Array) => Float32Array = (_n, _s, d) => d,
  names: string[] = [...src.entries.keys()],
): Uint8Array {
  const header: Record<string, unknown> = {};
  const parts: Float32Array[] = [];
  let at = 0;
  for (const name of names) {
    const shape = src.get(name).shape;
    const data = map(name, shape, src.float32(name));
    header[name] = { dtype: 'F32', shape, data_offsets: [at, at + 4 * data.length] };
    parts.push(data);
    at += 4 * data.length;
  }
  const body = new Uint8Array(at);
  let o = 0;
  for (const p of parts) {
    body.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), o);
    o += p.byteLength;
  }
  return writeSafetensors(header, body);
}

export function writeWord2VecBinary(words: string[], vectors: number[][], headerLine?: string): Uint8Array {
  const w = new ByteWriter();
  w.bytes(new TextEncoder().encode(`${headerLine ?? `${words.length} ${vectors[0]?.length ?? 0}`}\n`));
  words.forEach((word, i) => {
    w.bytes(new TextEncoder().encode(`${word} `));
    for (const v of vectors[i]) w.f32(v);
    w.u8(10);
  });
  return w.finish();
}

export function writeWord2VecText(words: string[], vectors: number[][], header = true): string {
  const lines = words.map((word, i) => `${word} ${vectors[i].join(' ')}`);
  return `${(header ? [`${words.length} ${vectors[0]?.length ?? 0}`, ...lines] : lines).join('\n')}\n`;
}
