// The source tree is layered one way: each folder imports only from its own layer and those below
// it, and no chain of runtime (non-type) imports comes back to where it started.
//   errors.ts < wgsl/ < gpu/ < ops/ < graph/ < io/ < models/ < engine.ts < app/ < index.ts
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const LAYERS = ['errors.ts', 'wgsl', 'gpu', 'ops', 'graph', 'io', 'models', 'engine.ts', 'app', 'index.ts'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function layerOf(file: string): number {
  const top = relative('src', file).split('/')[0];
  const i = LAYERS.indexOf(top);
  if (i < 0) throw new Error(`${file}: not in any layer; add its folder to LAYERS in this test`);
  return i;
}

interface Import {
  target: string;
  typeOnly: boolean;
}

/** Relative imports and re-exports of a source file (shader text imports with ?raw left out). */
function importsOf(file: string, source = readFileSync(file, 'utf8')): Import[] {
  const out: Import[] = [];
  const re = /^(import|export)\s+(type\s+)?([\s\S]*?)\s+from\s+'(\.[^'?]*)'/gm;
  for (const m of source.matchAll(re)) {
    const names = m[3];
    const inner = names.trim();
    const listed = /^\{[\s\S]*\}$/.test(inner)
      ? inner
          .slice(1, -1)
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean)
      : [];
    const typeOnly = !!m[2] || (listed.length > 0 && listed.every((n) => n.startsWith('type ')));
    out.push({ target: `${normalize(join(dirname(file), m[4]))}.ts`, typeOnly });
  }
  return out;
}

const all = files('src');

describe('layering', () => {
  it('no file imports from a layer above its own (type imports included)', () => {
    const upward: string[] = [];
    for (const f of all) {
      for (const imp of importsOf(f)) {
        if (layerOf(imp.target) > layerOf(f)) upward.push(`${f} imports ${imp.target}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('runtime imports form no cycle', () => {
    const graph = new Map(
      all.map((f) => [
        f,
        importsOf(f)
          .filter((i) => !i.typeOnly)
          .map((i) => i.target),
      ]),
    );
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].join(' → '));
        return;
      }
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of all) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('the checks can fail: made-up upward and type-only imports are read as such', () => {
    const up = importsOf('src/gpu/x.ts', "import { Graph } from '../graph/graph';\nimport type { A } from './y';");
    expect(up.map((i) => [i.target, i.typeOnly])).toEqual([
      ['src/graph/graph.ts', false],
      ['src/gpu/y.ts', true],
    ]);
    expect(layerOf(up[0].target)).toBeGreaterThan(layerOf('src/gpu/x.ts'));
    expect(importsOf('src/a.ts', "import { type A, type B } from './b';")[0].typeOnly).toBe(true);
    expect(importsOf('src/a.ts', "import { type A, B } from './b';")[0].typeOnly).toBe(false);
  });
});
