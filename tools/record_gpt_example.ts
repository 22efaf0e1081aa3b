// Records what the "Small language models" page produces for its default prompt, for browsers without
// WebGPU (demos/gpt/recorded.json, shown labelled as a recorded example): the bundled tiny Llama
// (public/models/kjv-llama) in Node through Dawn, the page's default sampling, the prompt's tokens and
// the first steps' next-token candidates.
//   node tools/run-with-gpu.mjs tsx tools/record_gpt_example.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'vite';
import { create } from 'webgpu';
import type { LlamaConfig } from '../src/index';

// The library from its source through Vite (its shaders load with import.meta.glob), as the pages get it.
const vite = await createServer({ server: { middlewareMode: true }, appType: 'custom', logLevel: 'warn' });
const { Engine, Llama, TextTokenizer } = (await vite.ssrLoadModule('/src/index.ts')) as typeof import('../src/index');

const dir = 'public/models/kjv-llama';
const prompt = 'In the beginning';
const sampling = { temperature: 0.8, topK: 40, topP: 0.95, seed: 1 };
const maxNewTokens = 40;

const engine = await Engine.create({ gpu: create(['backend=vulkan']) });
const tok = TextTokenizer.fromJSON(readFileSync(`${dir}/tokenizer.json`, 'utf8'), JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, 'utf8')));
const config = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')) as LlamaConfig;
const lm = await Llama.fromSafetensors(engine, new Uint8Array(readFileSync(`${dir}/model.safetensors`)), config, { weights: 'f32' });
const ids = tok.encode(prompt);
const out: number[] = [];
const t0 = performance.now();
for await (const id of lm.generate(ids, { ...sampling, maxNewTokens, stopTokens: [], candidates: 5 })) out.push(id);
const wallMs = performance.now() - t0;
const label = (id: number) => tok.decode([id]);
const a = engine.adapter;
writeFileSync(
  'demos/gpt/recorded.json',
  `${JSON.stringify(
    {
      model: 'KJV tiny Llama (f32 weights)',
      adapter: [a.vendor, a.architecture, a.description].filter(Boolean).join(' ') || 'unknown adapter',
      prompt,
      sampling: { ...sampling, maxNewTokens },
      tokens: ids.map((id) => ({ id, text: label(id) })),
      text: tok.decode(out),
      wallMs: Math.round(wallMs),
      steps: lm.lastGeneration.candidates.slice(0, 3).map((c, i) => ({
        chosen: label(out[i]),
        candidates: c.map((x) => ({ text: label(x.id), id: x.id, p: +x.p.toFixed(4), kept: +x.kept.toFixed(4) })),
      })),
    },
    null,
    1,
  )}\n`,
);
lm.dispose();
engine.dispose();
await vite.close();
console.log(`demos/gpt/recorded.json: ${out.length} tokens in ${wallMs.toFixed(0)} ms on ${a.description || a.vendor}`);
