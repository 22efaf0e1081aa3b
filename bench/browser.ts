// Browser CLI: `npm run bench:browser -- [suite ...] [--quick] [--reps N] [--sizes a,b] [--ort-no-subgroups]`. Builds the site, opens the
// bench page in headless Chromium (Debian's, WebGPU on; a GPU where the machine has one, else
// SwiftShader) with autorun, prints the same table as the Node CLI and writes
// bench/results/<adapter>-chromium.json. This is how onnxruntime-web, whose Node build has no WebGPU,
// is measured from a terminal. Ctrl-C stops it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { startSite } from '../tools/site';
import { report } from './report';
import { suites } from './suites/index';
import type { CaseResult } from './suites/types';

const args = process.argv.slice(2);
const value = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const wanted = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--reps' && args[i - 1] !== '--sizes');
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

const site = await startSite();
try {
  const page = await site.browser.newPage();
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
  console.log(report(results.cases));
  const slug = adapter
    .split('—')[0]
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .join('-');
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${slug || 'gpu'}-chromium${args.includes('--ort-no-subgroups') ? '-ort-no-subgroups' : ''}.json`;
  writeFileSync(file, `${JSON.stringify({ ...results, browser: `Chromium ${site.browser.version()}` }, null, 2)}\n`);
  console.log(`wrote ${file}`);
} finally {
  await site.close();
}
process.exit(0);
