// Node CLI: `npm run bench -- [suite ...] [--quick] [--reps N] [--sizes a,b] [--no-peers] [--tuning FILE]
// [--peak-gflops N] [--peak-gbps N] [--results DIR]`. Runs the suites through Dawn on this machine's GPU
// (or SwiftShader), prints a table (with the share of the GPU's peak where it is known or typed) and
// writes <results>/<adapter>.json (bench/results by default). `--tune [--quick] [--keys a,b]` autotunes
// instead and writes <results>/<adapter>.tuning.json (--tuning and bench:browser's --tuning read it).
// The bench kit (tools/bench-kit.mjs) bundles this file; its `run` script passes --results.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { create, globals } from 'webgpu';
import { Engine, type TuningTable } from 'webgpu-nlp';
import { autotune } from './autotune';
import { describeSystem } from './kit/system';
import { startTfjs, type Tf } from './peers/tfjs';
import { report } from './report';
import { peakFor } from './roofline';
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
const valued = ['--reps', '--sizes', '--keys', '--tuning', '--peak-gflops', '--peak-gbps', '--results'];
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

const number = (name: string) => (value(name) === undefined ? undefined : Number(value(name)));
const typedPeak = { gflops: number('--peak-gflops'), gbps: number('--peak-gbps') };
const resultsDir = value('--results') ?? 'bench/results';
// --tuning FILE: a table `--tune` wrote (or a bare { key: { name: number } } object) for the engine.
const tuningFile = value('--tuning');
let tuning: TuningTable | undefined;
if (tuningFile) {
  const parsed = JSON.parse(readFileSync(tuningFile, 'utf8'));
  tuning = parsed.table ?? parsed;
  if (!tuning || typeof tuning !== 'object' || Array.isArray(tuning)) {
    console.error(`--tuning ${tuningFile}: not a tuning table ({ "softmax": { "WG": 64 }, ... })`);
    process.exit(2);
  }
}

const gpu = create(['backend=vulkan']);
// TF.js's WebGPU backend refuses to start unless navigator.gpu exists, which Node does not define.
if (!(globalThis as { navigator?: unknown }).navigator)
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
const engine = await Engine.create({ gpu, powerPreference: 'high-performance', tuning });
const a = engine.adapter;
const adapterName = [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ') || 'unknown adapter';
console.log(
  `adapter: ${adapterName} (backend ${process.env.WEBGPU_NLP_BACKEND ?? 'system'}); timestamp-query: ${engine.features.timestampQuery}`,
);
const system = describeSystem(a);
console.log(
  `gpu: ${system.gpu}; driver: ${system.driver ?? 'unknown'}; vulkan: ${system.vulkan ?? 'unknown'}; commit: ${system.commit ?? 'unknown'}${tuningFile ? `; tuning: ${tuningFile}` : ''}`,
);
let peak: ReturnType<typeof peakFor>;
try {
  // The GPU's full name (nvidia-smi's, vulkaninfo's) tells an H100 PCIe from an SXM where Dawn's names do not.
  peak = peakFor({ ...a, description: `${a.description} ${system.gpu}` }, typedPeak);
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}

const slug = [
  ...new Set(
    adapterName
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter(Boolean),
  ),
].join('-');
mkdirSync(resultsDir, { recursive: true });

if (flag('--tune')) {
  // Autotune instead of the suites: best tiles per shape class, written for Engine.create({ tuning }).
  // --keys a,b tunes only those keys and keeps the rest of an earlier table for this adapter.
  const keys = value('--keys')?.split(',');
  const tuningOut = `${resultsDir}/${slug}.tuning.json`;
  const earlier = keys && existsSync(tuningOut) ? JSON.parse(readFileSync(tuningOut, 'utf8')) : null;
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
  writeFileSync(tuningOut, `${JSON.stringify({ adapter: a, system, date: new Date().toISOString(), table, results }, null, 2)}\n`);
  console.log(`wrote ${tuningOut}`);
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
const newEngine = () => Engine.create({ gpu, powerPreference: 'high-performance', tuning });
const results = await runSuites({ engine, tf, quick: flag('--quick'), newEngine }, chosen, {
  warmup: 1,
  reps,
  sizes,
  onProgress: (done, total, label) => process.stderr.write(`\r[${done}/${total}] ${label.padEnd(60)}`),
});
process.stderr.write('\n');

console.log(report(results, peak));

const file = `${resultsDir}/${slug}.json`;
// Cases measured now replace the same (suite, kernel, size) from earlier runs; the rest are kept.
const key = (c: CaseResult) => `${c.suite}|${c.kernel}|${c.size}`;
const fresh = new Set(results.map(key));
const earlier: CaseResult[] = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')).cases ?? []) : [];
const json = {
  adapter: a,
  system,
  peak,
  backend: process.env.WEBGPU_NLP_BACKEND ?? 'system',
  runtime: `node ${process.version} + dawn (webgpu npm)`,
  date: new Date().toISOString(),
  features: engine.features,
  options: { reps, quick: flag('--quick'), suites: chosen.map((s) => s.name), tuning: tuningFile ?? null },
  cases: [...earlier.filter((c) => !fresh.has(key(c))), ...results],
};
writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
console.log(`wrote ${file}`);
tf?.disposeVariables();
engine.dispose();
process.exit(0);
