// Node CLI: `npm run bench -- [suite ...] [--quick] [--reps N] [--sizes a,b] [--no-peers]`. Runs the suites
// through Dawn on this machine's GPU (or SwiftShader), prints a table and writes
// bench/results/<adapter>.json. `--tune [--quick] [--keys a,b]` autotunes instead and writes
// bench/results/<adapter>.tuning.json (bench:browser's --tuning reads it).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { create, globals } from 'webgpu';
import { Engine } from 'webgpu-nlp';
import { autotune } from './autotune';
import { startTfjs, type Tf } from './peers/tfjs';
import { report } from './report';
import { runSuites } from './run';
import { suites } from './suites/index';
import type { CaseResult } from './suites/types';

Object.assign(globalThis, globals);
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const valued = ['--reps', '--sizes', '--keys'];
const wanted = args.filter((a, i) => !a.startsWith('--') && !valued.includes(args[i - 1]));
const unknown = wanted.filter((w) => !suites.some((s) => s.name === w));
if (unknown.length) {
  console.error(`unknown suite(s): ${unknown.join(', ')}; available: ${suites.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
// onnxruntime-web has WebGPU only in a browser: its suite runs from `npm run bench:browser`.
const chosen = wanted.length ? suites.filter((s) => wanted.includes(s.name)) : suites.filter((s) => s.name !== 'ort');
if (wanted.includes('ort'))
  console.warn('the ort suite needs a browser for its peer: `npm run bench:browser -- ort` runs it in headless Chromium');

const gpu = create(['backend=vulkan']);
// TF.js's WebGPU backend refuses to start unless navigator.gpu exists, which Node does not define.
if (!(globalThis as { navigator?: unknown }).navigator)
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
const engine = await Engine.create({ gpu, powerPreference: 'high-performance' });
const a = engine.adapter;
const adapterName = [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ') || 'unknown adapter';
console.log(
  `adapter: ${adapterName} (backend ${process.env.WEBGPU_NLP_BACKEND ?? 'system'}); timestamp-query: ${engine.features.timestampQuery}`,
);

const slug = [
  ...new Set(
    adapterName
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter(Boolean),
  ),
].join('-');
mkdirSync('bench/results', { recursive: true });

if (flag('--tune')) {
  // Autotune instead of the suites: best tiles per shape class, written for Engine.create({ tuning }).
  // --keys a,b tunes only those keys and keeps the rest of an earlier table for this adapter.
  const keys = value('--keys')?.split(',');
  const tuningFile = `bench/results/${slug}.tuning.json`;
  const earlier = keys && existsSync(tuningFile) ? JSON.parse(readFileSync(tuningFile, 'utf8')) : null;
  const { table: fresh, results: tuned } = await autotune(engine, {
    quick: flag('--quick'),
    keys,
    onProgress: (label) => process.stderr.write(`\rtuning ${label.padEnd(60)}`),
  });
  process.stderr.write('\n');
  for (const r of tuned) {
    console.log(
      `${r.key.padEnd(15)} ${r.shape.padEnd(18)} default ${r.defaultMs.toFixed(3)} ms -> best ${r.bestMs.toFixed(3)} ms ${JSON.stringify(r.best)} (${r.speedup.toFixed(2)}x, ${r.tried} tried)`,
    );
  }
  const table = { ...(earlier?.table ?? {}), ...fresh };
  for (const k of keys ?? []) if (!fresh[k]) delete table[k]; // the default won this time
  const results = [...(earlier?.results ?? []).filter((r: { key: string }) => !keys?.includes(r.key)), ...tuned];
  writeFileSync(tuningFile, `${JSON.stringify({ adapter: a, date: new Date().toISOString(), table, results }, null, 2)}\n`);
  console.log(`wrote ${tuningFile}`);
  engine.dispose();
  process.exit(0);
}

let tf: Tf | null = null;
if (!flag('--no-peers')) {
  try {
    tf = await startTfjs(engine);
  } catch (e) {
    console.warn(`TensorFlow.js peer unavailable: ${(e as Error).message}`);
  }
}

const reps = Number(value('--reps') ?? 5);
const sizes = value('--sizes')?.split(',');
const results = await runSuites({ engine, tf, quick: flag('--quick') }, chosen, {
  warmup: 1,
  reps,
  sizes,
  onProgress: (done, total, label) => process.stderr.write(`\r[${done}/${total}] ${label.padEnd(60)}`),
});
process.stderr.write('\n');

console.log(report(results));

const file = `bench/results/${slug}.json`;
// Cases measured now replace the same (suite, kernel, size) from earlier runs; the rest are kept.
const key = (c: CaseResult) => `${c.suite}|${c.kernel}|${c.size}`;
const fresh = new Set(results.map(key));
const earlier: CaseResult[] = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')).cases ?? []) : [];
const json = {
  adapter: a,
  backend: process.env.WEBGPU_NLP_BACKEND ?? 'system',
  runtime: `node ${process.version} + dawn (webgpu npm)`,
  date: new Date().toISOString(),
  features: engine.features,
  options: { reps, quick: flag('--quick'), suites: chosen.map((s) => s.name) },
  cases: [...earlier.filter((c) => !fresh.has(key(c))), ...results],
};
writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
console.log(`wrote ${file}`);
tf?.disposeVariables();
engine.dispose();
process.exit(0);
