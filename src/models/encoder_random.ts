// A BERT checkpoint of random weights in Hugging Face's layout (BertModel keys, 'bert.' prefix), built in
// memory: for benchmarks at real shapes (all-MiniLM-L6-v2: 6 layers, 384 wide) without a download.
import type { EncoderConfig } from './encoder-def';
import { randomSafetensors } from './gpt2_random';

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
  return randomSafetensors(shapes, seed, scale, (name) => (/LayerNorm\.weight$/.test(name) ? 1 : undefined));
}
