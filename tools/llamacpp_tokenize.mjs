// llama.cpp's own ids for a tokenizer fixture's strings: loads a GGUF file vocab-only through
// node-llama-cpp's prebuilt libllama (llama_tokenize with special-token parsing, the BOS llama.cpp
// adds when the vocabulary asks for it) and writes them into the fixture's JSON as `llamacpp`.
// node-llama-cpp is not a dependency of this project; install it anywhere and point at it:
//   mkdir -p /tmp/nlc && cd /tmp/nlc && npm i -E node-llama-cpp@3.21.1
//   NODE_LLAMA_CPP=/tmp/nlc/node_modules/node-llama-cpp/dist/index.js \
//     node tools/llamacpp_tokenize.mjs tests/fixtures/gguf/spm-tokenizer.gguf tests/fixtures/gguf/spm-tokenizer.json
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const [gguf, json] = process.argv.slice(2);
if (!gguf || !json || !process.env.NODE_LLAMA_CPP) {
  console.error('usage: NODE_LLAMA_CPP=<node-llama-cpp dist/index.js> node tools/llamacpp_tokenize.mjs FILE.gguf FIXTURE.json');
  process.exit(2);
}
const { getLlama } = await import(resolve(process.env.NODE_LLAMA_CPP));
const llama = await getLlama({ gpu: false, build: 'never' });
const model = await llama.loadModel({ modelPath: resolve(gguf), vocabOnly: true });
const fixture = JSON.parse(readFileSync(json, 'utf8'));
const bos = model.tokens.bos;
for (const s of fixture.samples) {
  const ids = [...(model.tokens.shouldPrependBosToken ? [bos] : []), ...model.tokenize(s.text, true)].map(Number);
  s.llamacpp = ids;
}
fixture.llamacpp = { release: llama.llamaCppRelease ?? null, addBos: model.tokens.shouldPrependBosToken };
// One sample a line, as tools/make_spm_tokenizer_fixture.py writes it.
const { samples, ...head } = fixture;
const lines = samples.map((s) => `  ${JSON.stringify(s)}`).join(',\n');
writeFileSync(json, `${JSON.stringify(head).slice(0, -1)},\n "samples": [\n${lines}\n ]\n}\n`);
console.log(`${fixture.samples.length} strings tokenized by llama.cpp ${JSON.stringify(fixture.llamacpp)}`);
await model.dispose();
await llama.dispose();
