// Every registered op has a conformance suite, found by the op's name: a describeOp('<op>', ...) call
// (tests/helpers/conformance.ts) in tests/ops/<module>.test.ts, where src/ops/<module>.ts defines the
// op. A static scan of the test files, so it runs without a device. Ops whose cases sit in suites other
// engineers own, not yet declared with describeOp, are listed in UNDECLARED with where they are tested.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getOp, listOps } from '../../src/index';

const OPS_TESTS = 'tests/ops';

/**
 * Ops tested in a file that does not call describeOp for them yet: op -> [file, a string the file
 * holds where the op is tested]. An entry must go once the op gets its describeOp (the test below
 * fails until it does).
 */
const UNDECLARED: Record<string, [file: string, marker: string]> = {
  matmul: ['matmul.test.ts', "describe('matmul'"],
  matmul_naive: ['matmul.test.ts', "it('naive baseline"],
  dequant_matmul: ['dequant_matmul.test.ts', "describe('dequant_matmul'"],
  dequant_embedding: ['dequant_matmul.test.ts', "describe('dequant_embedding'"],
  quantize_scales: ['dequant_matmul.test.ts', 'the GPU quantizer agrees with the CPU one'],
  quantize_pack: ['dequant_matmul.test.ts', 'the GPU quantizer agrees with the CPU one'],
  quantize_blocks: ['dequant_matmul.test.ts', "the GPU quantizer gives the CPU's bytes"],
};

/** The op names of each describeOp('op' | ['op', ...], ...) call in a test file's source. */
function declaredOps(source: string): string[] {
  const names: string[] = [];
  for (const m of source.matchAll(/\bdescribeOp\(\s*(\[[^\]]*\]|'[^']*')/g))
    names.push(...Array.from(m[1].matchAll(/'([^']+)'/g), (q) => q[1]));
  return names;
}

/** op -> the test files (names under tests/ops) that declare a suite for it. */
function suites(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of readdirSync(OPS_TESTS).filter((f) => f.endsWith('.test.ts')))
    for (const op of declaredOps(readFileSync(join(OPS_TESTS, file), 'utf8'))) out.set(op, [...(out.get(op) ?? []), file]);
  return out;
}

/** op -> the stem of the src/ops module that exports its descriptor. */
async function moduleOf(): Promise<Map<string, string>> {
  // Loaded lazily, after the registry: an eager glob would import the op modules ahead of it.
  const modules = import.meta.glob<Record<string, unknown>>('../../src/ops/*.ts');
  const registered = new Set(listOps());
  const out = new Map<string, string>();
  for (const [path, load] of Object.entries(modules)) {
    const stem = path.replace(/^.*\/(\w+)\.ts$/, '$1');
    for (const value of Object.values(await load())) {
      const name = (value as { name?: unknown } | null)?.name;
      if (typeof name === 'string' && registered.has(name) && getOp(name) === value) out.set(name, stem);
    }
  }
  return out;
}

describe('op conformance coverage', () => {
  it('the scan reads single names and lists, and nothing else', () => {
    const src =
      "describeOp('topk', () => {});\ndescribeOp(['topk_partial', 'topk_merge'], 'two stages', () => {});\ndescribe('softmax', () => {});";
    expect(declaredOps(src)).toEqual(['topk', 'topk_partial', 'topk_merge']);
  });

  it('every registered op has a describeOp suite in tests/ops (or is listed in UNDECLARED with where it is tested)', () => {
    const declared = suites();
    const missing = listOps().filter((op) => !declared.has(op) && !UNDECLARED[op] && !op.startsWith('test_'));
    expect(missing, `ops without a conformance suite: add describeOp('<op>', ...) to tests/ops/<module>.test.ts`).toEqual([]);
  });

  it('each suite is in the file named for the module that defines its op, and names a registered op', async () => {
    const where = await moduleOf();
    const misplaced: string[] = [];
    for (const [op, files] of suites()) {
      const stem = where.get(op);
      if (!stem) misplaced.push(`${op} (in ${files.join(', ')}): no registered op has this name`);
      else
        for (const f of files)
          if (f !== `${stem}.test.ts`) misplaced.push(`${op}: in ${f}, belongs in ${stem}.test.ts (src/ops/${stem}.ts)`);
    }
    expect(misplaced).toEqual([]);
  });

  it('UNDECLARED lists only ops still without a suite, each pointing at the file and place that tests it', () => {
    const declared = suites();
    const registered = new Set(listOps());
    const stale: string[] = [];
    for (const [op, [file, marker]] of Object.entries(UNDECLARED)) {
      if (declared.has(op)) stale.push(`${op}: has describeOp in ${declared.get(op)!.join(', ')}; remove it from UNDECLARED`);
      else if (registered.has(op) && !readFileSync(join(OPS_TESTS, file), 'utf8').includes(marker))
        stale.push(`${op}: ${file} no longer holds "${marker}"`);
    }
    expect(stale).toEqual([]);
  });
});
