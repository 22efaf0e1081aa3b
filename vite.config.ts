// Two builds from one config:
//   vite / vite build        the site: landing page, demos and the bench page (multi-page app)
//   vite build --mode lib    the library: src/index.ts -> dist/webgpu-nlp.js (ESM, WGSL inlined)
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const root = import.meta.dirname;

/** index.html, bench/index.html and every demos/<name>/index.html that exists. */
function pages(): Record<string, string> {
  const out: Record<string, string> = { main: resolve(root, 'index.html') };
  if (existsSync(resolve(root, 'bench/index.html'))) out.bench = resolve(root, 'bench/index.html');
  const demos = resolve(root, 'demos');
  for (const d of existsSync(demos) ? readdirSync(demos) : []) {
    const html = resolve(demos, d, 'index.html');
    if (existsSync(html)) out[`demo-${d}`] = html;
  }
  return out;
}

export default defineConfig(({ mode }) =>
  mode === 'lib'
    ? {
        // The library ships no static files: public/ (the demo models) belongs to the site.
        publicDir: false,
        build: {
          outDir: 'dist',
          emptyOutDir: false,
          sourcemap: true,
          target: 'es2022',
          lib: { entry: resolve(root, 'src/index.ts'), formats: ['es'], fileName: () => 'webgpu-nlp.js' },
          // js-tiktoken is a dependency (its ESM build works everywhere); wgsl_reflect is bundled because
          // its package entry is CommonJS that Node refuses to import.
          // Dependencies stay imports (npm installs them with the package): tokenizers, templates, BPE.
          rollupOptions: { external: [/^js-tiktoken/, /^@huggingface\//, /^wgsl_reflect/] },
        },
      }
    : {
        // Pages import the package by name, as an outside app would; in the site it is the source.
        resolve: { alias: { 'webgpu-nlp': resolve(root, 'src/index.ts') } },
        // Pages are directories with an index.html each; a missing file is a 404, not the landing page
        // (loadModel on a model folder asks for optional files such as modules.json and must see them absent).
        appType: 'mpa',
        server: { host: '127.0.0.1' },
        preview: { host: '127.0.0.1' },
        build: { outDir: 'dist-site', target: 'es2022', rollupOptions: { input: pages() } },
        worker: { format: 'es' },
      },
);
