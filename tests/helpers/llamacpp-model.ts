// The F32 source of tools/make_llamacpp_quants.mjs, rebuilt byte for byte by tests that need it: a
// SmolLM2-shaped Llama (576 wide: 9 heads x 64, 3 KV heads; one layer, a 512-wide MLP, 256 tokens, tied
// lm_head) with seeded random weights, as a GGUF with F32 tensors.
import { type GGUFMeta, type GGUFTensorSpec, writeGGUF } from './files';
import { randn } from './numeric';

const [C, H, KVH, D, I, V] = [576, 9, 3, 64, 512, 256];

/** The F32 GGUF that llama_model_quantize turns into tests/fixtures/gguf-llamacpp/*.gguf. */
export function smolLM2ShapedF32(): Uint8Array {
  // 1. The F32 source. SPM-style vocabulary: <unk>, <s>, </s>, then byte tokens (llama.cpp needs a vocab to
  // load a model; ids are fed directly, never tokenized).
  const tokens = [
    '<unk>',
    '<s>',
    '</s>',
    ...Array.from({ length: V - 3 }, (_, i) => `<0x${i.toString(16).toUpperCase().padStart(2, '0')}>`),
  ];
  const meta: GGUFMeta[] = [
    ['general.architecture', 8, 'llama'],
    ['general.name', 8, 'smollm2-shaped-random'],
    ['general.alignment', 4, 32],
    ['general.file_type', 4, 0],
    ['llama.block_count', 4, 1],
    ['llama.context_length', 4, 256],
    ['llama.embedding_length', 4, C],
    ['llama.feed_forward_length', 4, I],
    ['llama.attention.head_count', 4, H],
    ['llama.attention.head_count_kv', 4, KVH],
    ['llama.rope.freq_base', 6, 100000],
    ['llama.rope.dimension_count', 4, D],
    ['llama.attention.layer_norm_rms_epsilon', 6, 1e-5],
    ['llama.vocab_size', 4, V],
    ['tokenizer.ggml.model', 8, 'llama'],
    ['tokenizer.ggml.tokens', 9, tokens, 8],
    ['tokenizer.ggml.scores', 9, tokens.map(() => 0), 6],
    ['tokenizer.ggml.token_type', 9, tokens.map((_, i) => (i === 0 ? 2 : i < 3 ? 3 : 6)), 5],
    ['tokenizer.ggml.bos_token_id', 4, 1],
    ['tokenizer.ggml.eos_token_id', 4, 2],
    ['tokenizer.ggml.add_bos_token', 7, false],
  ];
  let seed = 2024;
  const mat = (N: number, K: number, scale: number) => ({ dims: [K, N], data: randn(N * K, seed++, scale) });
  const norm = () => ({ dims: [C], data: Float32Array.from(randn(C, seed++, 0.1), (x) => 1 + x) });
  const specs = {
    'token_embd.weight': mat(V, C, 0.05), // tied: no output.weight, as SmolLM2
    'output_norm.weight': norm(),
    'blk.0.attn_norm.weight': norm(),
    'blk.0.attn_q.weight': mat(H * D, C, 0.05),
    'blk.0.attn_k.weight': mat(KVH * D, C, 0.05),
    'blk.0.attn_v.weight': mat(KVH * D, C, 0.05),
    'blk.0.attn_output.weight': mat(C, H * D, 0.05),
    'blk.0.ffn_norm.weight': norm(),
    'blk.0.ffn_gate.weight': mat(I, C, 0.05),
    'blk.0.ffn_up.weight': mat(I, C, 0.05),
    'blk.0.ffn_down.weight': mat(C, I, 0.05),
  };
  const tensors: GGUFTensorSpec[] = Object.entries(specs).map(([name, t]) => ({
    name,
    dims: t.dims,
    type: 0,
    data: new Uint8Array(t.data.buffer),
  }));
  return writeGGUF(meta, tensors);
}
