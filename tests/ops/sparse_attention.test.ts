// Block-sparse attention against dense float64 attention under the equivalent element mask: every
// layout kind, odd lengths, causal and not, random layouts over several seeds, full density against
// the dense kernel, the decode form, and bad layouts.
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  globalLayout,
  maskLayout,
  randomLayout,
  slidingLayout,
  stridedLayout,
  unionLayout,
  type BlockLayout,
  type Engine,
} from '../../src/index';
import { sparseReference } from '../../src/ops/sparse_attention';
import { createTestEngine } from '../helpers/engine';
import { describeOp } from '../helpers/conformance';
import { expectClose, f64, randn } from '../helpers/numeric';

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

const TOL = { atol: 2e-5, rtol: 2e-5 };
const H = 2;
const D = 32;

async function prefill(T: number, layout: BlockLayout, dense = false) {
  const g = engine.graph('sparse');
  const [q, k, v] = ['q', 'k', 'v'].map((n) => g.input(n, [H, T, D]));
  const y = dense ? g.attention(q, k, v, { causal: layout.causal }) : g.sparseAttention(q, k, v, layout);
  const plan = await g.compile({ y });
  plan.poison();
  const feeds = { q: randn(H * T * D, 1), k: randn(H * T * D, 2), v: randn(H * T * D, 3) };
  const out = (await plan.run(feeds)).y as Float32Array;
  plan.dispose();
  return { out, feeds };
}

async function check(T: number, layout: BlockLayout, what: string) {
  const { out, feeds } = await prefill(T, layout);
  const ref = sparseReference(f64(feeds.q), f64(feeds.k), f64(feeds.v), { H, T, S: T, D, layout, queryPos: (t) => t });
  expectClose(out, ref, TOL, what);
}

describeOp(['sparse_attention', 'sparse_attention_decode'], 'block-sparse prefill and decode', () => {
  for (const causal of [true, false]) {
    it(`sliding, strided, global, mask and union layouts (${causal ? 'causal' : 'full'}, odd lengths)`, async () => {
      await check(77, slidingLayout(77, { blockSize: 16, window: 20, causal }), 'sliding');
      await check(100, stridedLayout(100, { blockSize: 16, stride: 3, causal }), 'strided');
      await check(70, globalLayout(70, { blockSize: 32, blocks: 1, causal }), 'global');
      await check(
        45,
        maskLayout(45, { blockSize: 16, causal }, (qb, kb) => (qb + kb) % 2 === 0),
        'mask',
      );
      const T = 130;
      const u = unionLayout(slidingLayout(T, { blockSize: 64, window: 1, causal }), globalLayout(T, { blockSize: 64, blocks: 1, causal }));
      await check(T, u, 'union');
    });

    it(`random layouts, several seeds (${causal ? 'causal' : 'full'})`, async () => {
      for (const seed of [1, 2, 3]) await check(90, randomLayout(90, { blockSize: 16, perRow: 2, seed, causal }), `random seed ${seed}`);
    });
  }

  it('a layout of full density equals the dense kernel', async () => {
    for (const causal of [true, false]) {
      const T = 67;
      const full = maskLayout(T, { blockSize: 32, causal }, () => true);
      expect(full.density).toBe(causal ? 6 / 9 : 1); // 3 blocks: the lower triangle holds 6 of 9 pairs
      const a = await prefill(T, full);
      const b = await prefill(T, full, true);
      expectClose(a.out, f64(b.out), { atol: 1e-6, rtol: 1e-5 }, 'full density vs dense');
    }
  });

  it('rows with no allowed key are zero', async () => {
    const T = 40;
    const l = maskLayout(T, { blockSize: 16, causal: false }, (qb) => qb !== 1); // query block 1 lists nothing
    const { out } = await prefill(T, l);
    for (let h = 0; h < H; h++) for (let t = 16; t < 32; t++) for (let d = 0; d < D; d++) expect(out[(h * T + t) * D + d]).toBe(0);
  });

  it('decode: one query at the current length against a cache, read from a scalar', async () => {
    const S = 100;
    const layout = unionLayout(
      slidingLayout(S, { blockSize: 16, window: 16, causal: true }),
      globalLayout(S, { blockSize: 16, blocks: 1, causal: true }),
    );
    const g = engine.graph('sparse decode');
    const q = g.input('q', [H, 1, D]);
    const k = g.input('k', [H, S, D]);
    const v = g.input('v', [H, S, D]);
    const plan = await g.compile({ y: g.sparseDecodeAttention(q, k, v, layout, { length: g.scalar('len') }) });
    const feeds = { q: randn(H * D, 4), k: randn(H * S * D, 5), v: randn(H * S * D, 6) };
    for (const len of [1, 17, 50, 100]) {
      plan.poison();
      const { y } = await plan.run({ ...feeds, len });
      const ref = sparseReference(f64(feeds.q), f64(feeds.k), f64(feeds.v), {
        H,
        T: 1,
        S,
        D,
        layout,
        queryPos: () => len - 1,
        length: len,
      });
      expectClose(y, ref, TOL, `decode len=${len}`);
    }
    plan.dispose();
  });

  it("grouped-query (6 query heads on 2 KV heads): prefill and decode read each head's KV head", async () => {
    const [QH, KVH, S] = [6, 2, 70];
    const layout = slidingLayout(S, { blockSize: 16, window: 20, causal: true });
    const g = engine.graph('gqa sparse');
    const q = g.input('q', [QH, S, D]);
    const k = g.input('k', [KVH, S, D]);
    const v = g.input('v', [KVH, S, D]);
    const q1 = g.input('q1', [QH, 1, D]);
    const plan = await g.compile({
      pre: g.sparseAttention(q, k, v, layout),
      dec: g.sparseDecodeAttention(q1, k, v, layout, { length: g.scalar('len') }),
    });
    const feeds = { q: randn(QH * S * D, 7), k: randn(KVH * S * D, 8), v: randn(KVH * S * D, 9), q1: randn(QH * D, 10) };
    plan.poison();
    const out = await plan.run({ ...feeds, len: 41 });
    const [qq, kk, vv] = [f64(feeds.q), f64(feeds.k), f64(feeds.v)];
    expectClose(
      out.pre,
      sparseReference(qq, kk, vv, { H: QH, T: S, S, D, layout, queryPos: (t) => t, group: QH / KVH }),
      TOL,
      'GQA sparse prefill',
    );
    expectClose(
      out.dec,
      sparseReference(f64(feeds.q1), kk, vv, { H: QH, T: 1, S, D, layout, queryPos: () => 40, length: 41, group: QH / KVH }),
      TOL,
      'GQA sparse decode',
    );
    // The prefill against the dense GQA kernel's own reference under the same element mask, head by head.
    for (let h = 0; h < QH; h++) {
      const one = sparseReference(
        qq.subarray(h * S * D, (h + 1) * S * D),
        kk.subarray(Math.floor(h / 3) * S * D, (Math.floor(h / 3) + 1) * S * D),
        vv.subarray(Math.floor(h / 3) * S * D, (Math.floor(h / 3) + 1) * S * D),
        { H: 1, T: S, S, D, layout, queryPos: (t) => t },
      );
      expectClose(out.pre.subarray(h * S * D, (h + 1) * S * D), one, TOL, `GQA sparse prefill head ${h}`);
    }
    plan.dispose();
  });

  it('score hook: ALiBi and soft-cap with an explicit scale at head dim 256, prefill and decode, GQA', async () => {
    const [QH, KVH, S, D256] = [4, 2, 40, 256];
    const layout = slidingLayout(S, { blockSize: 16, window: 20, causal: true });
    const mods = { alibi: 8, softcap: 4, scale: 0.1 };
    const g = engine.graph('sparse hook');
    const k = g.input('k', [KVH, S, D256]);
    const v = g.input('v', [KVH, S, D256]);
    const plan = await g.compile({
      pre: g.sparseAttention(g.input('q', [QH, S, D256]), k, v, layout, mods),
      dec: g.sparseDecodeAttention(g.input('q1', [QH, 1, D256]), k, v, layout, { length: g.scalar('len'), ...mods }),
    });
    const feeds = {
      q: randn(QH * S * D256, 11, 3),
      k: randn(KVH * S * D256, 12),
      v: randn(KVH * S * D256, 13),
      q1: randn(QH * D256, 14, 3),
    };
    plan.poison();
    const out = await plan.run({ ...feeds, len: 33 });
    const [kk, vv] = [f64(feeds.k), f64(feeds.v)];
    const common = { ...mods, H: QH, S, D: D256, layout, group: QH / KVH };
    expectClose(out.pre, sparseReference(f64(feeds.q), kk, vv, { ...common, T: S, queryPos: (t) => t }), TOL, 'sparse prefill hook');
    expectClose(
      out.dec,
      sparseReference(f64(feeds.q1), kk, vv, { ...common, T: 1, queryPos: () => 32, length: 33 }),
      TOL,
      'sparse decode hook',
    );
    plan.dispose();
  });

  it('bad layouts: block size, length, empty, indices out of range', () => {
    const g = engine.graph('bad');
    const [q, k, v] = ['q', 'k', 'v'].map((n) => g.input(n, [H, 64, D]));
    const good = slidingLayout(64, { blockSize: 16, window: 16 });
    expect(() => slidingLayout(64, { blockSize: 48 as 16, window: 16 })).toThrow(/block size 48 must be 16, 32 or 64/);
    expect(() => g.sparseAttention(q, k, v, { ...good, paddedLength: 72 })).toThrow(/does not divide the padded length 72/);
    expect(() => g.sparseAttention(q, k, v, slidingLayout(65, { blockSize: 16, window: 16 }))).toThrow(
      /the layout is for 65 tokens, the keys have 64/,
    );
    expect(() => g.sparseAttention(q, k, v, { ...good, colIdx: new Uint32Array(0), rowPtr: new Uint32Array(5) })).toThrow(/empty/);
    const bad = { ...good, colIdx: good.colIdx.map((c, i) => (i === 2 ? 9 : c)) };
    expect(() => g.sparseAttention(q, k, v, bad)).toThrow(/key block 9 in row 1 is out of range \(4 blocks\)/);
  });
});
