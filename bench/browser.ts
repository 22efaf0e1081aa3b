// Browser CLI: `npm run bench:browser -- [suite ...] [--quick] [--reps N] [--sizes a,b] [--ort-no-subgroups]
// [--tuning FILE]`. Builds the site, opens the
// bench page in headless Chromium (Debian's, WebGPU on; a GPU where the machine has one, else
// SwiftShader) with autorun, prints the same table as the Node CLI and writes
// bench/results/<adapter>-chromium.json. This is how onnxruntime-web, whose Node build has no WebGPU,
// is measured from a terminal. Ctrl-C stops it.
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { basename } from 'node:path';
import { startSite } from '../tools/site';
import { report } from './report';
import { peakFor } from './roofline';
import { suites } from './suites/index';
import type { CaseResult } from './suites/types';

const args = process.argv.slice(2);
const value = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const valued = ['--reps', '--sizes', '--tuning'];
const wanted = args.filter((a, i) => !a.startsWith('--') && !valued.includes(args[i - 1]));
const unknown = wanted.filter((w) => !suites.some((s) => s.name === w));
if (unknown.length) {
  console.error(`unknown suite(s): ${unknown.join(', ')}; available: ${suites.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const reps = Number(value('--reps') ?? 5);
const query = new URLSearchParams({
  suites: (wanted.length ? wanted : ['ort']).join(','),
  reps: String(reps),
  quick: args.includes('--quick') ? '1' : '0',
  autorun: '1',
  ortSubgroups: args.includes('--ort-no-subgroups') ? '0' : '1',
});
if (value('--sizes')) query.set('sizes', value('--sizes')!);
// --tuning FILE: the engine in the page uses that table (`npm run bench -- --tune` writes one per adapter).
const tuningFile = value('--tuning');
if (tuningFile) {
  const parsed = JSON.parse(readFileSync(tuningFile, 'utf8'));
  query.set('tuning', JSON.stringify(parsed.table ?? parsed));
}

/**
 * bench/.cache (tools/make_gpt2_onnx.py's GPT-2 files, about 1 GB) served on its own port with CORS,
 * so the page can fetch them without the site build copying them.
 */
function serveCache(): Promise<{ url: string; close(): void } | null> {
  const dir = 'bench/.cache';
  if (!existsSync(dir)) return Promise.resolve(null);
  const server = createServer((req, res) => {
    const file = `${dir}/${basename(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname))}`;
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Length': statSync(file).size, 'Content-Type': 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(address && typeof address !== 'string' ? { url: `http://127.0.0.1:${address.port}/`, close: () => server.close() } : null);
    }),
  );
}

const cache = await serveCache();
if (cache) query.set('models', cache.url);
const site = await startSite();
try {
  const page = await site.browser.newPage();
  // onnxruntime-web builds a large session on the page's thread (90 MB MiniLM: minutes on SwiftShader
  // under load); reading the status waits for it rather than failing at playwright's 30 s.
  page.setDefaultTimeout(900_000);
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(`${site.url}/bench/?${query}`);
  await page.waitForSelector('#adapter:not(:empty)');
  let last = '';
  for (;;) {
    const state = await page.getAttribute('body', 'data-state');
    const status = (await page.textContent('#status')) ?? '';
    if (status !== last) process.stderr.write(`\r${status.slice(0, 100).padEnd(100)}`);
    last = status;
    if (state === 'done' || state === 'stopped' || state === 'error') break;
    await page.waitForTimeout(1000);
  }
  process.stderr.write('\n');
  const adapter = (await page.textContent('#adapter')) ?? '';
  const results = await page.evaluate(() => (window as unknown as { benchResults?: { cases: CaseResult[] } }).benchResults);
  if (!results) throw new Error(`the bench page ended without results: ${last}`);
  console.log(`adapter: ${adapter}\nbrowser: Chromium ${site.browser.version()}`);
  // The page's adapter line is matched against the peaks table as a whole (Chrome often hides the device).
  console.log(report(results.cases, peakFor({ vendor: adapter, architecture: '', device: '', description: '' })));
  const slug = adapter
    .split('—')[0]
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .join('-');
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${slug || 'gpu'}-chromium${args.includes('--ort-no-subgroups') ? '-ort-no-subgroups' : ''}.json`;
  // Cases measured now replace the same (suite, kernel, size) from earlier runs; the rest are kept.
  const key = (c: CaseResult) => `${c.suite}|${c.kernel}|${c.size}`;
  const fresh = new Set(results.cases.map(key));
  const earlier: CaseResult[] = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')).cases ?? []) : [];
  const cases = [...earlier.filter((c) => !fresh.has(key(c))), ...results.cases];
  writeFileSync(file, `${JSON.stringify({ ...results, cases, browser: `Chromium ${site.browser.version()}` }, null, 2)}\n`);
  console.log(`wrote ${file}`);
} finally {
  await site.close();
  cache?.close();
}
process.exit(0);
