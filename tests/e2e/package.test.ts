// The npm package as an outside app meets it: `npm pack` holds the library only (no demo models, well
// under 1 MB), and a scratch Vite app outside the repo installs the tarball, builds, and runs a matmul
// in Chromium on WebGPU.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { preview } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_BIN } from '../../tools/gpu-env.mjs';

const repo = resolve(import.meta.dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'webgpu-nlp-app-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const APP = `import { Engine } from 'webgpu-nlp';
const out = document.getElementById('out');
try {
  const engine = await Engine.create();
  const g = engine.graph();
  const y = g.matmul(g.input('a', [2, 3]), g.input('b', [3, 2]));
  const plan = await g.compile({ y });
  const r = await plan.run({ a: new Float32Array([1, 2, 3, 4, 5, 6]), b: new Float32Array([1, 0, 0, 1, 1, 1]) });
  out.textContent = Array.from(r.y).join(',');
} catch (e) {
  out.textContent = 'error: ' + e.message;
}
`;

describe('npm package', () => {
  it('packs the library only, and a fresh Vite app installs it, builds and runs a matmul in Chromium', async () => {
    run('npm', ['run', 'build', '--silent'], repo);
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', scratch], repo)) as {
      filename: string;
      files: { path: string }[];
    }[];
    const tarball = join(scratch, packed[0].filename);
    const size = statSync(tarball).size;
    const files = packed[0].files.map((f) => f.path);
    console.log(`npm pack: ${(size / 1024).toFixed(0)} KiB, ${files.length} files`);
    expect(size).toBeLessThan(1024 * 1024);
    expect(files.filter((f) => /\.(safetensors|bin|txt)$/.test(f) || f.startsWith('dist/models/'))).toEqual([]); // no demo models
    expect(files).toContain('dist/webgpu-nlp.js');
    expect(files).toContain('dist/types/index.d.ts');

    const app = join(scratch, 'app');
    mkdirSync(app);
    const viteVersion = JSON.parse(readFileSync(join(repo, 'node_modules/vite/package.json'), 'utf8')).version as string;
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }));
    writeFileSync(join(app, 'index.html'), '<!doctype html><p id="out">running</p><script type="module" src="./main.js"></script>');
    writeFileSync(join(app, 'main.js'), APP);
    // The registry is reachable in CI; the cache that `npm ci` just filled serves most of it.
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, `vite@${viteVersion}`], app);
    run('npx', ['vite', 'build', '--logLevel', 'warn'], app);

    const server = await preview({ root: app, configFile: false, preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
    const address = server.httpServer.address();
    const browser = await chromium.launch({ executablePath: CHROMIUM_BIN, args: CHROMIUM_ARGS, headless: true });
    try {
      if (!address || typeof address === 'string') throw new Error('vite preview did not report a port');
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${address.port}/`);
      await page.waitForFunction(() => document.getElementById('out')?.textContent !== 'running', undefined, { timeout: 60_000 });
      // [[1, 2, 3], [4, 5, 6]] · [[1, 0], [0, 1], [1, 1]] = [[4, 5], [10, 11]]
      expect(await page.textContent('#out')).toBe('4,5,10,11');
    } finally {
      await browser.close();
      await new Promise<void>((r) => server.httpServer.close(() => r()));
    }
  });
});
