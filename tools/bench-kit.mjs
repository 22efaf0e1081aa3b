// `npm run bench:kit -- --out DIR [--with-node]`: a folder that runs the Node bench on a Linux x86_64
// GPU server with no npm install, no repository and no browser (bench/kit/run.sh says how it runs).
// It holds bench.mjs (bench/cli.ts and the library, WGSL included, bundled by Vite into one ES module),
// Dawn's dawn.node for linux-x64 where the bundled `webgpu` package looks for it, Chromium's Vulkan
// loader as a fallback, the tuning tables from bench/results, kit.json (commit, versions, files) and
// `run`. --with-node adds this machine's Node binary, xz-compressed (unpacked by `run` on first use
// where PATH has no Node 20+), and compresses dawn.node too; the compressed files are cached under
// node_modules/.cache/bench-kit. The kit must stay within 48 MB (a box may take 64 MiB per copy).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
export const KIT_LIMIT_BYTES = 48e6;
const CHROMIUM_LOADER = '/usr/lib/chromium/libvulkan.so.1';

function usage(message) {
  if (message) console.error(`bench:kit: ${message}`);
  console.error('usage: npm run bench:kit -- --out DIR [--with-node] [--node PATH]');
  process.exit(2);
}

const args = process.argv.slice(2);
const value = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  if (i + 1 >= args.length || args[i + 1].startsWith('--')) usage(`${name} needs a value`);
  return args[i + 1];
};
for (const [i, a] of args.entries())
  if (a.startsWith('--') && !['--out', '--with-node', '--node'].includes(a)) usage(`unknown option ${a}`);
  else if (!a.startsWith('--') && !['--out', '--node'].includes(args[i - 1])) usage(`unexpected argument ${a}`);
const outArg = value('--out');
if (!outArg) usage('--out DIR is required');
const out = resolve(outArg);
const withNode = args.includes('--with-node');
const nodeBinary = value('--node') ?? process.execPath;

const dawn = join(root, 'node_modules/webgpu/dist/linux-x64/dawn.node');
if (!existsSync(dawn)) usage(`Dawn's linux-x64 module is missing (${relative(root, dawn)}): run npm ci`);
const hasXz = spawnSync('xz', ['--version'], { stdio: 'ignore' }).status === 0;
if (withNode && !hasXz) usage('--with-node compresses Node with xz, which is not installed (apt-get install xz-utils)');
if (withNode && !existsSync(nodeBinary)) usage(`no Node binary at ${nodeBinary}`);
// A folder that is not empty and not an earlier kit is refused rather than written into.
if (existsSync(out) && readdirSync(out).length && !existsSync(join(out, 'kit.json')))
  usage(`${out} is not empty and holds no kit.json: choose an empty or new folder`);

/**
 * The newest GLIBC_x.y symbol version a binary needs (objdump -T), or null where objdump is missing.
 * The run script refuses machines older than its MIN_GLIBC, which must cover every packed binary.
 */
function glibcNeeded(file) {
  const r = spawnSync('objdump', ['-T', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) return null;
  const versions = [...r.stdout.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  return versions.reduce((a, b) => (b[0] > a[0] || (b[0] === a[0] && b[1] > a[1]) ? b : a), [0, 0]);
}

const runScript = readFileSync(join(root, 'bench/kit/run.sh'), 'utf8');
const minGlibc = /^MIN_GLIBC=(\d+)\.(\d+)$/m.exec(runScript);
if (!minGlibc) throw new Error('bench:kit: bench/kit/run.sh has no MIN_GLIBC=x.y line');
for (const file of [dawn, ...(withNode ? [nodeBinary] : [])]) {
  const need = glibcNeeded(file);
  if (need && (need[0] > +minGlibc[1] || (need[0] === +minGlibc[1] && need[1] > +minGlibc[2])))
    usage(`${file} needs glibc ${need.join('.')}, newer than run.sh's MIN_GLIBC=${minGlibc[1]}.${minGlibc[2]}: raise it there`);
}

function git(...a) {
  const r = spawnSync('git', a, { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** `xz -6` of a file, cached by its path, size and time (compressing Node takes a minute). */
function xzCached(file) {
  const st = statSync(file);
  const key = createHash('sha256').update(`${file}|${st.size}|${st.mtimeMs}`).digest('hex').slice(0, 16);
  const cacheDir = join(root, 'node_modules/.cache/bench-kit');
  const cached = join(cacheDir, `${key}.xz`);
  if (!existsSync(cached)) {
    mkdirSync(cacheDir, { recursive: true });
    console.log(`compressing ${file} (${(st.size / 1e6).toFixed(1)} MB) with xz -6 ...`);
    const r = spawnSync('sh', ['-c', 'xz -6 -T0 -c "$1" > "$2.part" && mv "$2.part" "$2"', 'sh', file, cached], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`bench:kit: xz failed on ${file}`);
  }
  return cached;
}

/** Every file under dir with its size, by relative path. */
function sizeOf(dir) {
  const files = {};
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        files[relative(dir, p)] = statSync(p).size;
      }
    }
  };
  walk(dir);
  return { files };
}

const t0 = performance.now();
// An earlier kit's files are replaced; its results/ are kept.
for (const name of ['bench.mjs', 'run', 'README.txt', 'kit.json', 'node.xz', 'bin', 'dist', 'tuning', 'vulkan'])
  rmSync(join(out, name), { recursive: true, force: true });
mkdirSync(join(out, 'results'), { recursive: true });

// 1. bench/cli.ts with the library from src/ (import.meta.glob brings the WGSL in as strings), the
// `webgpu` loader, TF.js and the tokenizer packages, as one ES module. onnxruntime-web stays out: its
// suite runs only in a browser and the CLI never imports it.
const { build } = await import('vite');
await build({
  configFile: false,
  root,
  logLevel: 'warn',
  publicDir: false,
  resolve: { alias: { 'webgpu-nlp': join(root, 'src/index.ts') } },
  ssr: { noExternal: true, target: 'node' },
  build: {
    ssr: join(root, 'bench/cli.ts'),
    outDir: out,
    emptyOutDir: false,
    target: 'node20',
    minify: false,
    sourcemap: false,
    copyPublicDir: false,
    rollupOptions: {
      external: [/^onnxruntime-web/],
      output: { entryFileNames: 'bench.mjs', format: 'es', codeSplitting: false },
    },
  },
});
if (!existsSync(join(out, 'bench.mjs'))) throw new Error('bench:kit: the bundle was not written');
for (const e of readdirSync(out)) if (e.endsWith('.mjs') && e !== 'bench.mjs') throw new Error(`bench:kit: the bundle split into ${e}`);

// 2. Dawn, where the bundled `webgpu` index.js requires it (dist/<platform>-<arch>/dawn.node beside bench.mjs).
const dawnDir = join(out, 'dist/linux-x64');
mkdirSync(dawnDir, { recursive: true });
if (withNode) copyFileSync(xzCached(dawn), join(dawnDir, 'dawn.node.xz'));
else copyFileSync(dawn, join(dawnDir, 'dawn.node'));

// 3. Node, compressed.
if (withNode) copyFileSync(xzCached(nodeBinary), join(out, 'node.xz'));

// 4. A Vulkan loader to fall back on (Chromium's build of Khronos's loader needs only libc).
if (existsSync(CHROMIUM_LOADER)) {
  mkdirSync(join(out, 'vulkan/lib'), { recursive: true });
  copyFileSync(CHROMIUM_LOADER, join(out, 'vulkan/lib/libvulkan.so.1'));
}

// 5. The tuning tables measured so far (SwiftShader's), for reference and --tuning.
mkdirSync(join(out, 'tuning'), { recursive: true });
for (const f of readdirSync(join(root, 'bench/results')))
  if (f.endsWith('.tuning.json')) copyFileSync(join(root, 'bench/results', f), join(out, 'tuning', f));

// 6. The run script and a note.
writeFileSync(join(out, 'run.part'), runScript);
chmodSync(join(out, 'run.part'), 0o755);
renameSync(join(out, 'run.part'), join(out, 'run'));
writeFileSync(
  join(out, 'README.txt'),
  `webgpu-nlp bench kit (Linux x86_64). Copy this folder to the GPU server, then:

  ./run --vulkan-info          what it will use: Node, the Vulkan loader, the driver manifest
  ./run --tune                 autotune -> results/<adapter>.tuning.json
  ./run --tuning results/<adapter>.tuning.json   every suite but ort (browser only), tuned
  ./run matmul --quick         one suite, small sizes
  ./run --help                 every option

Results are written to results/ here, with the GPU's name, driver, Vulkan version and the commit in
kit.json. Copy results/ back. Without libvulkan.so.1: ./run --vulkan-setup (see ./run --help).
`,
);

const commit = git('rev-parse', 'HEAD');
const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'src', 'shaders', 'bench');
const webgpuVersion = JSON.parse(readFileSync(join(root, 'node_modules/webgpu/package.json'), 'utf8')).version;
const kit = {
  commit: commit ? `${commit}${dirty ? '+local changes' : ''}` : null,
  built: new Date().toISOString(),
  node: withNode ? spawnSync(nodeBinary, ['--version'], { encoding: 'utf8' }).stdout.trim() : null,
  webgpu: webgpuVersion,
  files: {},
};
writeFileSync(join(out, 'kit.json'), `${JSON.stringify(kit, null, 2)}\n`);
const { files } = sizeOf(out);
kit.files = Object.fromEntries(Object.entries(files).filter(([f]) => !f.startsWith('results/') && !f.startsWith('bin/')));
writeFileSync(join(out, 'kit.json'), `${JSON.stringify(kit, null, 2)}\n`);

const kitBytes = Object.values(kit.files).reduce((s, n) => s + n, 0);
console.log(
  `bench kit: ${out}\n  ${Object.keys(kit.files).length} files, ${(kitBytes / 1e6).toFixed(1)} MB` +
    `${withNode ? ' with Node' : ' (node from PATH; --with-node carries one)'}; commit ${kit.commit ?? 'unknown'}; built in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
for (const [f, n] of Object.entries(kit.files)
  .sort((x, y) => y[1] - x[1])
  .slice(0, 6))
  console.log(`  ${(n / 1e6).toFixed(1).padStart(6)} MB  ${f}`);
if (kitBytes > KIT_LIMIT_BYTES) {
  console.error(`bench:kit: the kit is ${(kitBytes / 1e6).toFixed(1)} MB, over the ${KIT_LIMIT_BYTES / 1e6} MB limit`);
  process.exit(1);
}
console.log(`  copy it to the GPU server and run: ${relative(process.cwd(), out) || '.'}/run --help`);
