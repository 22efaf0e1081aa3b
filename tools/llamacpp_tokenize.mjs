// llama.cpp's own ids for the strings of tokenizer fixtures (tools/make_gguf_tokenizer_fixtures.py):
// loads each NAME.gguf vocab-only through node-llama-cpp's prebuilt libllama (llama_tokenize with
// special-token parsing, plus the BOS llama.cpp adds when the vocabulary asks for it) and writes the ids
// into NAME.json as `llamacpp`.
// node-llama-cpp is not a dependency of this project; install it anywhere and point at it:
//   mkdir -p /tmp/nlc && cd /tmp/nlc && npm i -E node-llama-cpp@3.21.1
//   NODE_LLAMA_CPP=/tmp/nlc/node_modules/node-llama-cpp/dist/index.js \
//     node tools/llamacpp_tokenize.mjs tests/fixtures/gguf/{spm-tokenizer,spm-no-prefix,bpe-llama3,bpe-qwen2,bpe-smollm,bpe-tekken}
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const names = process.argv.slice(2);
if (!names.length || !process.env.NODE_LLAMA_CPP) {
  console.error(
    'usage: NODE_LLAMA_CPP=<node-llama-cpp dist/index.js> node tools/llamacpp_tokenize.mjs PATH/NAME ... (NAME.gguf, NAME.json)',
  );
  process.exit(2);
}
const { getLlama } = await import(resolve(process.env.NODE_LLAMA_CPP));
const llama = await getLlama({ gpu: false, build: 'never' });
for (const name of names) {
  const model = await llama.loadModel({ modelPath: resolve(`${name}.gguf`), vocabOnly: true });
  const fixture = JSON.parse(readFileSync(`${name}.json`, 'utf8'));
  const bos = model.tokens.shouldPrependBosToken ? [Number(model.tokens.bos)] : [];
  for (const s of fixture.samples) s.llamacpp = [...bos, ...model.tokenize(s.text, true).map(Number)];
  fixture.llamacpp = { release: llama.llamaCppRelease ?? null, addBos: model.tokens.shouldPrependBosToken };
  // One sample a line, as tools/make_gguf_tokenizer_fixtures.py writes it.
  const { samples, ...head } = fixture;
  const lines = samples.map((s) => `  ${JSON.stringify(s)}`).join(',\n');
  writeFileSync(`${name}.json`, `${JSON.stringify(head).slice(0, -1)},\n "samples": [\n${lines}\n ]\n}\n`);
  console.log(`${name}: ${samples.length} strings tokenized by llama.cpp ${JSON.stringify(fixture.llamacpp)}`);
  await model.dispose();
}
await llama.dispose();
