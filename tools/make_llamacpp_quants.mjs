// Real llama-quantize files of a SmolLM2-shaped Llama (576 wide: 9 heads x 64, 3 KV heads), for
// tests/node/llamacpp-files.test.ts. One layer, a 256-token vocabulary and a 512-wide MLP keep the files
// small; the 576-wide rows (not a multiple of 256) make llama.cpp fall back from its k-quants
// (Q5_0 / Q8_0 / IQ4_NL), as it does for SmolLM2-135M. Steps:
//   1. an F32 GGUF with random weights (tests/helpers/files.ts writeGGUF), kept in a temp folder;
//   2. llama_model_quantize of node-llama-cpp's prebuilt libllama (through koffi) makes Q4_K_M,
//      Q5_K_M, Q3_K_M and IQ4_XS files in tests/fixtures/gguf-llamacpp/;
//   3. llama.cpp's own CPU backend (node-llama-cpp) gives next-token log-probabilities for a prompt
//      after each prefix, written to tests/fixtures/gguf-llamacpp/expected.json.
// node-llama-cpp and koffi are not dependencies of this project; install them anywhere:
//   mkdir -p /tmp/llq && cd /tmp/llq && npm init -y && npm i -E node-llama-cpp@3.21.1 koffi
//   LLQ=/tmp/llq npx tsx tools/make_llamacpp_quants.mjs
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeGGUF } from '../tests/helpers/files.ts';
import { randn } from '../tests/helpers/numeric.ts';

const LLQ = process.env.LLQ;
if (!LLQ) {
  console.error('usage: LLQ=<folder holding node_modules/{node-llama-cpp,koffi}> npx tsx tools/make_llamacpp_quants.mjs');
  process.exit(2);
}
const OUT = 'tests/fixtures/gguf-llamacpp';
const C = 576,
  H = 9,
  KVH = 3,
  D = 64,
  I = 512,
  V = 256;
/** llama_ftype values (llama.h) of the files made. */
const FTYPES = { Q4_K_M: 15, Q5_K_M: 17, Q3_K_M: 12, IQ4_XS: 30 };
const PROMPT = [1, 72, 101, 108, 108, 111, 33];

// 1. The F32 source. SPM-style vocabulary: <unk>, <s>, </s>, then byte tokens (llama.cpp needs a vocab to
// load a model; ids are fed directly, never tokenized).
const tokens = ['<unk>', '<s>', '</s>', ...Array.from({ length: V - 3 }, (_, i) => `<0x${i.toString(16).toUpperCase().padStart(2, '0')}>`)];
const meta = [
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
const mat = (N, K, scale) => ({ dims: [K, N], data: randn(N * K, seed++, scale) });
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
const tensors = Object.entries(specs).map(([name, t]) => ({ name, dims: t.dims, type: 0, data: new Uint8Array(t.data.buffer) }));
const tmp = mkdtempSync(join(tmpdir(), 'llq-'));
const f32Path = join(tmp, 'f32.gguf');
writeFileSync(f32Path, writeGGUF(meta, tensors));

// 2. llama_model_quantize. Only the first two fields of llama_model_quantize_params are set (int32 nthread,
// enum llama_ftype ftype: stable across releases); the rest stay as llama_model_quantize_default_params()
// filled them. The struct is returned through a hidden pointer (larger than 16 bytes), so a 512-byte
// stand-in holds whatever the release's layout is.
const require = createRequire(resolve(LLQ, 'package.json'));
const koffi = require('koffi');
const bins = join(LLQ, 'node_modules/@node-llama-cpp/linux-x64/bins/linux-x64');
koffi.load(join(bins, 'libggml-base.so'));
koffi.load(join(bins, 'libggml.v0.4.0.so'));
const lib = koffi.load(join(bins, 'libllama.v0.4.0.so'));
const Params = koffi.struct('llq_params', { bytes: koffi.array('uint8', 512) });
const defaults = lib.func('llama_model_quantize_default_params', Params, []);
const quantize = lib.func('uint32 llama_model_quantize(const char*, const char*, const uint8_t*)');
lib.func('void llama_backend_init()')();
for (const [name, ftype] of Object.entries(FTYPES)) {
  const p = Uint8Array.from(defaults().bytes);
  const view = new DataView(p.buffer);
  view.setInt32(0, 2, true);
  view.setInt32(4, ftype, true);
  const rc = quantize(f32Path, resolve(OUT, `${name}.gguf`), p);
  if (rc !== 0) throw new Error(`llama_model_quantize ${name}: returned ${rc}`);
  console.log(`${name}: quantized`);
}

// 3. llama.cpp's own next-token log-probabilities (CPU backend) after each prefix of PROMPT.
const { getLlama } = await import(resolve(LLQ, 'node_modules/node-llama-cpp/dist/index.js'));
const llama = await getLlama({ gpu: false, build: 'never' });
const expected = {
  prompt: PROMPT,
  llamacpp: {
    nodeLlamaCpp: JSON.parse(readFileSync(join(LLQ, 'node_modules/node-llama-cpp/package.json'), 'utf8')).version,
    release: llama.llamaCppRelease ?? null,
  },
  files: {},
};
for (const name of Object.keys(FTYPES)) {
  const model = await llama.loadModel({ modelPath: resolve(OUT, `${name}.gguf`) });
  const context = await model.createContext({ contextSize: 64, batchSize: 16, threads: 2 });
  const seq = context.getSequence();
  const gen = { probabilities: true, options: { temperature: 1, topK: V, topP: 1, minP: 0 } };
  const res = await seq.controlledEvaluate(PROMPT.map((t) => [t, { generateNext: gen }]));
  const logprobs = res.map((r) => {
    const row = new Array(V).fill(null);
    for (const [t, p] of r.next.probabilities) row[Number(t)] = Math.log(p);
    return row;
  });
  expected.files[name] = { logprobs };
  await context.dispose();
  await model.dispose();
}
await llama.dispose();
writeFileSync(join(OUT, 'expected.json'), `${JSON.stringify(expected)}\n`);
console.log(`wrote ${OUT}/expected.json`);
