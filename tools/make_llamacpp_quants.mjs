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
import { smolLM2ShapedF32 } from '../tests/helpers/llamacpp-model.ts';

const LLQ = process.env.LLQ;
if (!LLQ) {
  console.error('usage: LLQ=<folder holding node_modules/{node-llama-cpp,koffi}> npx tsx tools/make_llamacpp_quants.mjs');
  process.exit(2);
}
const OUT = 'tests/fixtures/gguf-llamacpp';
const V = 256;
/** llama_ftype values (llama.h) of the files made. */
const FTYPES = { Q4_K_M: 15, Q5_K_M: 17, Q3_K_M: 12, IQ4_XS: 30 };
const PROMPT = [1, 72, 101, 108, 108, 111, 33];

// 1. The F32 source (tests/helpers/llamacpp-model.ts).
const tmp = mkdtempSync(join(tmpdir(), 'llq-'));
const f32Path = join(tmp, 'f32.gguf');
writeFileSync(f32Path, smolLM2ShapedF32());

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

// 3. llama.cpp's own next-token log-probabilities (CPU backend, F32 K/V cache, no flash attention) after
// each prefix of PROMPT, for each file and for the F32 source (as 'F32'; tests rebuild it).
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
const CONTEXT = {
  contextSize: 64,
  batchSize: 16,
  threads: 2,
  flashAttention: false,
  experimentalKvCacheKeyType: 'F32',
  experimentalKvCacheValueType: 'F32',
};
expected.llamacpp.context = CONTEXT;
for (const [name, path] of [['F32', f32Path], ...Object.keys(FTYPES).map((n) => [n, resolve(OUT, `${n}.gguf`)])]) {
  const model = await llama.loadModel({ modelPath: path });
  const context = await model.createContext(CONTEXT);
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
