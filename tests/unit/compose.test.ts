// WGSL composition (src/wgsl/compose.ts), without a device: imports resolved transitively and once,
// aliases, directives hoisted, hashes, and composed lines mapped back to their file and line.
import { describe, expect, it } from 'vitest';
import { compose, importsOf, wgslFile } from '../../src/wgsl/compose';

describe('WGSL composition', () => {
  it('includes every import once, libraries before the file, and maps lines back to file:line', () => {
    const s = compose('matmul');
    // matmul imports lib/tile, lib/lanes and lib/epilogue_vec4, which imports lib/epilogue → lib/gelu.
    for (const fn of ['fn accumulate(', 'fn lane_sum(', 'fn epilogue4(', 'fn epilogue(', 'fn gelu(', 'fn flat_group(']) {
      expect(s.code.split(fn).length - 1, fn).toBe(1);
    }
    expect(s.code.indexOf('fn gelu(')).toBeLessThan(s.code.indexOf('fn epilogue('));
    expect(s.code.indexOf('fn epilogue4(')).toBeLessThan(s.code.indexOf('fn gemv('));
    const lines = s.code.split('\n');
    const at = lines.findIndex((l) => l.startsWith('var<workgroup> As'));
    const tileLine =
      wgslFile('lib/tile')
        .split('\n')
        .findIndex((l) => l.startsWith('var<workgroup> As')) + 1;
    expect(s.locate!(at + 1)).toBe(`lib/tile.wgsl:${tileLine}`);
    const main = lines.findIndex((l) => l.startsWith('fn main_vec4('));
    const mainLine =
      wgslFile('matmul')
        .split('\n')
        .findIndex((l) => l.startsWith('fn main_vec4(')) + 1;
    expect(s.locate!(main + 1)).toBe(`matmul.wgsl:${mainLine}`);
  });

  it('aliases pick a variant library; enable directives are hoisted above everything, once', () => {
    const plain = compose('normalize');
    const fast = compose('normalize', { aliases: { 'lib/reduce': 'lib/reduce_subgroup' }, name: 'normalize+subgroups' });
    expect(fast.name).toBe('normalize+subgroups');
    expect(fast.code).toContain('subgroupAdd');
    expect(plain.code).not.toContain('subgroupAdd');
    expect(fast.code.split('\n')[0]).toMatch(/^enable subgroups;/);
    expect(fast.code.match(/^enable subgroups;/gm)).toHaveLength(1);
    expect(plain.hash).not.toBe(fast.hash);
    expect(compose('normalize')).toBe(plain); // cached
  });

  it('files declare their imports, and a missing file is a clear error', () => {
    expect(importsOf(wgslFile('lib/epilogue_vec4'))).toEqual(['lib/epilogue']);
    expect(() => compose('no_such_kernel')).toThrow(/no shader file shaders\/no_such_kernel\.wgsl/);
  });

  it('shared pieces are written once: no kernel repeats the flat index, the f32 limit or the GELU constants', () => {
    for (const file of ['matmul', 'softmax', 'topk', 'sample', 'copy', 'elementwise', 'dequant_matmul', 'layernorm', 'lib/flash']) {
      const code = wgslFile(file);
      expect(code, file).not.toMatch(/wid\.y \* nwg\.x \+ wid\.x/);
      expect(code, file).not.toMatch(/3\.402823e38/);
      expect(code, file).not.toMatch(/0\.044715/);
      expect(code, file).not.toMatch(/if \(HAS_BIAS\)/);
    }
  });
});
