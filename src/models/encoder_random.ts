// A BERT checkpoint of random weights in Hugging Face's layout (BertModel keys, 'bert.' prefix), built in
// memory: for benchmarks at real shapes (all-MiniLM-L6-v2: 6 layers, 384 wide) without a download.
import type { EncoderConfig } from './encoder-def';

/** Safetensors bytes holding deterministic pseudo-random F32 weights (uniform in ±scale; LayerNorm gains 1). */
export function randomBertCheckpoint(c: EncoderConfig, seed = 7, scale = 0.05): Uint8Array {
  const C = c.hidden_size ?? 0;
  const I = c.intermediate_size ?? 0;
  const e = 'bert.embeddings.';
  const norm = (p: string): [string, number[]][] => [
    [`${p}.weight`, [C]],
    [`${p}.bias`, [C]],
  ];
  const linear = (p: string, N: number, K: number): [string, number[]][] => [
    [`${p}.weight`, [N, K]],
    [`${p}.bias`, [N]],
  ];
  const shapes: [string, number[]][] = [
    [`${e}word_embeddings.weight`, [c.vocab_size, C]],
    [`${e}position_embeddings.weight`, [c.max_position_embeddings ?? 512, C]],
    [`${e}token_type_embeddings.weight`, [c.type_vocab_size ?? 2, C]],
    ...norm(`${e}LayerNorm`),
  ];
  for (let i = 0; i < (c.num_hidden_layers ?? 0); i++) {
    const p = `bert.encoder.layer.${i}.`;
    shapes.push(
      ...linear(`${p}attention.self.query`, C, C),
      ...linear(`${p}attention.self.key`, C, C),
      ...linear(`${p}attention.self.value`, C, C),
      ...linear(`${p}attention.output.dense`, C, C),
      ...norm(`${p}attention.output.LayerNorm`),
      ...linear(`${p}intermediate.dense`, I, C),
      ...linear(`${p}output.dense`, C, I),
      ...norm(`${p}output.LayerNorm`),
    );
  }
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape] of shapes) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(new TextEncoder().encode(json), 8);
  let s = seed >>> 0;
  for (const [name, shape] of shapes) {
    const { data_offsets } = header[name] as { data_offsets: [number, number] };
    const floats = new Float32Array(
      out.buffer,
      8 + json.length + data_offsets[0],
      shape.reduce((a, b) => a * b, 1),
    );
    const gain = /LayerNorm\.weight$/.test(name);
    for (let i = 0; i < floats.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      floats[i] = gain ? 1 : (s / 2 ** 31 - 1) * scale;
    }
  }
  return out;
}
