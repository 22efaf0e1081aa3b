// WGSL composition. Every file under shaders/ names what it uses with `//#import lib/<name>` lines;
// compose() returns the file with its imports (transitively, each once), `enable` directives hoisted
// to the top, a hash of the code (shader modules are cached by it) and a line map, so a compile error
// at line 212 of the composed module is reported as `lib/tile.wgsl:37`.
// Variants choose between libraries with the same role: `aliases` maps an import to another file
// (lib/reduce → lib/reduce_subgroup where the adapter has subgroups); `extra` adds files a variant
// needs beyond the imports (an entry point only some adapters can compile).
// A small module of our own rather than the `wesl` package: we need includes, aliases and line maps,
// not WESL's module paths, visibility and conditional translation, nor a build step for them.
import { UnsupportedError } from '../errors';

/** A composed WGSL module. */
export interface ShaderSource {
  /** Names the variant in labels and pipeline keys, e.g. 'softmax+subgroups'. */
  name: string;
  code: string;
  /** 32-bit FNV-1a hash of the code, hex; equal code, equal hash. */
  hash?: string;
  /** Where a line of `code` (1-based) came from, e.g. 'lib/tile.wgsl:37'. */
  locate?: (line: number) => string;
}

export interface ComposeOptions {
  /** Import → the file that serves it in this variant. */
  aliases?: Record<string, string>;
  /** Files added after the imports. */
  extra?: string[];
  /** The variant's name (default: the file's). */
  name?: string;
}

const files: Record<string, string> = Object.fromEntries(
  Object.entries(
    import.meta.glob('../../shaders/**/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>,
  ).map(([path, code]) => [path.replace(/^.*\/shaders\//, '').replace(/\.wgsl$/, ''), code]),
);

const IMPORT = /^\/\/#import\s+(\S+)\s*$/;
const DIRECTIVE = /^\s*(enable|requires|diagnostic)\b[^;]*;\s*$/;

/** The source of shaders/<path>.wgsl (path without the extension, e.g. 'lib/tile'). */
export function wgslFile(path: string): string {
  const code = files[path];
  if (code === undefined)
    throw new UnsupportedError(`wgsl: no shader file shaders/${path}.wgsl; known: ${Object.keys(files).sort().join(', ')}`);
  return code;
}

/** The imports a file declares, in order. */
export function importsOf(code: string): string[] {
  return code.split('\n').flatMap((l) => {
    const m = IMPORT.exec(l);
    return m ? [m[1].replace(/\.wgsl$/, '')] : [];
  });
}

const cache = new Map<string, ShaderSource>();

/** shaders/<path>.wgsl with everything it imports. Cached per (path, options). */
export function compose(path: string, options: ComposeOptions = {}): ShaderSource {
  const key = JSON.stringify([path, options.aliases ?? {}, options.extra ?? [], options.name ?? '']);
  const hit = cache.get(key);
  if (hit) return hit;
  const aliases = options.aliases ?? {};
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (p: string, chain: string[]) => {
    const file = aliases[p] ?? p;
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'visiting') throw new UnsupportedError(`wgsl: import cycle ${[...chain, file].join(' → ')}`);
    state.set(file, 'visiting');
    for (const dep of importsOf(wgslFile(file))) visit(dep, [...chain, file]);
    state.set(file, 'done');
    order.push(file);
  };
  for (const p of options.extra ?? []) visit(p, []);
  visit(path, []);
  // The main file last, its libraries first (module-scope order does not matter in WGSL, but reading
  // top to bottom does); directives from every part hoisted above all of them.
  const directives = new Set<string>();
  const parts: { file: string; first: number; count: number }[] = [];
  const body: string[] = [];
  for (const file of order) {
    const lines = wgslFile(file).replace(/\n$/, '').split('\n');
    const kept = lines.map((l) => {
      if (!DIRECTIVE.test(l)) return l;
      directives.add(l.trim());
      return `// (hoisted) ${l.trim()}`; // keeps the file's own line numbers
    });
    parts.push({ file, first: body.length, count: kept.length });
    body.push(...kept);
  }
  const head = [...directives];
  const code = `${[...head, ...body].join('\n')}\n`;
  const source: ShaderSource = {
    name: options.name ?? path,
    code,
    hash: fnv1a(code),
    locate(line: number) {
      const i = line - 1 - head.length;
      if (i < 0) return `${path}.wgsl (hoisted directive ${line})`;
      const part = parts.find((p) => i >= p.first && i < p.first + p.count);
      return part ? `${part.file}.wgsl:${i - part.first + 1}` : `${path}.wgsl:?`;
    },
  };
  cache.set(key, source);
  return source;
}

/** 32-bit FNV-1a over UTF-16 code units, as hex. */
export function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
