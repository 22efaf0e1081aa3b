// The bench kit (tools/bench-kit.mjs, bench/kit/run.sh): built once with --with-node into a folder
// outside the repository, then run from that folder with an environment that has no node_modules, no
// repository, no NODE_PATH and only /bin on PATH: `run matmul --quick --swiftshader` must print the
// table and write results/<adapter>.json with the GPU, driver, Vulkan version and the kit's commit.
// The first build compresses Node with xz (minutes on a busy 2-core machine; cached afterwards).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSwiftShader } from '../../tools/gpu-env.mjs';

const root = resolve(import.meta.dirname, '../..');
const LIMIT = 48e6;
let dir = '';
let build = { status: 0 as number | null, stdout: '', stderr: '' };

/** A bare environment: no repository paths, no Vulkan variables from the test config, no NODE_PATH. */
const bareEnv = () => ({ PATH: '/bin', HOME: dir, LANG: 'C.UTF-8' });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bench-kit-'));
  const r = spawnSync(process.execPath, [join(root, 'tools/bench-kit.mjs'), '--out', dir, '--with-node'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 900_000,
  });
  build = { status: r.status, stdout: r.stdout, stderr: r.stderr };
  console.log(r.stdout);
}, 900_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('bench kit', () => {
  it('builds outside the repository within 48 MB, with Node and Dawn compressed and one ES module', () => {
    expect(build.status, build.stderr).toBe(0);
    expect(dir.startsWith(root)).toBe(false);
    const kit = JSON.parse(readFileSync(join(dir, 'kit.json'), 'utf8'));
    const total = Object.values(kit.files as Record<string, number>).reduce((s, n) => s + n, 0);
    console.log(`bench kit with Node: ${(total / 1e6).toFixed(1)} MB (limit ${LIMIT / 1e6} MB)`);
    expect(build.stdout).toContain(`${(total / 1e6).toFixed(1)} MB with Node`);
    expect(total).toBeLessThanOrEqual(LIMIT);
    expect(Object.keys(kit.files).sort()).toEqual(
      expect.arrayContaining(['bench.mjs', 'run', 'node.xz', 'dist/linux-x64/dawn.node.xz', 'kit.json', 'README.txt']),
    );
    expect(kit.commit).toMatch(/^[0-9a-f]{40}/);
    expect(statSync(join(dir, 'run')).mode & 0o111).toBeTruthy();
    // One module: no other .mjs, and no import of a package (only Node's built-ins and the browser-only
    // onnxruntime-web, which the Node CLI never loads).
    expect(readdirSync(dir).filter((f) => f.endsWith('.mjs'))).toEqual(['bench.mjs']);
    const bundle = readFileSync(join(dir, 'bench.mjs'), 'utf8');
    const specifiers = [...bundle.matchAll(/(?:^import\s[^;]*?from\s*|\bimport\s*\(\s*)["']([^"']+)["']/gm)].map((m) => m[1]);
    expect(specifiers.length).toBeGreaterThan(0);
    const builtin = (s: string) => s.startsWith('node:') || builtinModules.includes(s.split('/')[0]);
    expect(specifiers.filter((s) => !builtin(s) && !s.startsWith('onnxruntime-web'))).toEqual([]);
    // The WGSL is inside: the matmul kernel's entry point and a library file's function.
    expect(bundle).toContain('@compute');
  });

  it.skipIf(!hasSwiftShader())(
    "DIR/run matmul --quick --swiftshader on the kit's own Node prints the table and writes the JSON",
    () => {
      expect(build.status, build.stderr).toBe(0);
      const r = spawnSync(
        join(dir, 'run'),
        [
          'matmul',
          '--quick',
          '--swiftshader',
          '--bundled-node',
          '--sizes',
          '16x768x768',
          '--reps',
          '1',
          '--no-peers',
          '--peak-gflops',
          '100',
          '--peak-gbps',
          '10',
        ],
        { cwd: dir, env: bareEnv(), encoding: 'utf8', timeout: 600_000 },
      );
      console.log(r.stdout);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain('unpacking node.xz');
      expect(existsSync(join(dir, 'bin/node'))).toBe(true);
      expect(r.stdout).toMatch(/^kernel\s+size\s+ours ms\s+ours\s+GB\/s\s+% peak/m);
      expect(r.stdout).toMatch(/^matmul\s+16x768x768\s+\d+\.\d{3}\s+[\d.]+ GFLOP\/s\s+[\d.]+\s+[\d.]+% (FP32|BW)/m);
      expect(r.stdout).toContain('peaks (typed): typed peak, 100 GFLOP/s FP32, 10 GB/s');
      const wrote = /^wrote (.+\.json)$/m.exec(r.stdout)?.[1];
      expect(wrote).toBe(join(dir, 'results/google-swiftshader-device-subzero-driver-5-0.json'));
      const json = JSON.parse(readFileSync(wrote!, 'utf8'));
      const kit = JSON.parse(readFileSync(join(dir, 'kit.json'), 'utf8'));
      expect(json.adapter.vendor).toBe('google');
      expect(json.backend).toBe('swiftshader');
      expect(json.system).toMatchObject({
        driver: 'SwiftShader driver 5.0.0',
        vulkan: '1.0.5',
        vulkanFrom: 'driver manifest',
        loader: '/usr/lib/chromium/libvulkan.so.1',
        commit: kit.commit,
        kit: true,
      });
      expect(json.system.gpu).toMatch(/swiftshader/);
      expect(json.peak).toEqual({ name: 'typed peak', gflops: 100, gbps: 10, source: 'typed' });
      const mm = json.cases.find((c: { kernel: string; size: string }) => c.kernel === 'matmul' && c.size === '16x768x768');
      const ours = mm.results.find((x: { variant: string }) => x.variant === 'ours');
      expect(ours.medianMs).toBeGreaterThan(0);
      expect(ours.gflops).toBeCloseTo(mm.flops / ours.medianMs / 1e6, 6);
    },
    600_000,
  );

  it('run --vulkan-info names the loader it falls back on and says what to do without a driver manifest', () => {
    expect(build.status, build.stderr).toBe(0);
    const env = { ...bareEnv(), VK_ICD_FILENAMES: '/nonexistent/icd.json' };
    const info = spawnSync(join(dir, 'run'), ['--vulkan-info'], { cwd: dir, env, encoding: 'utf8' });
    expect(info.status, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/^vulkan loader: \//m);
    expect(info.stdout).toContain('driver (ICD):  /nonexistent/icd.json');
    // Where the machine has no driver manifest (this one: SwiftShader only comes with --swiftshader),
    // a run without --swiftshader stops and says where the manifest comes from.
    const manifests = ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'].filter(existsSync);
    if (!manifests.some((d) => readdirSync(d).some((f) => f.endsWith('.json')))) {
      const none = spawnSync(join(dir, 'run'), ['matmul', '--quick'], { cwd: dir, env: bareEnv(), encoding: 'utf8' });
      expect(none.status).toBe(1);
      expect(none.stderr).toContain('No Vulkan driver manifest (ICD JSON) was found');
      expect(none.stderr).toContain('NVIDIA_DRIVER_CAPABILITIES=all');
    }
    const bad = spawnSync(join(dir, 'run'), ['nosuchsuite', '--swiftshader'], { cwd: dir, env: bareEnv(), encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown suite\(s\): nosuchsuite; available: matmul/);
  });
});
