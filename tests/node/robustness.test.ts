// What a new user meets first, each case a test that failed before its fix: a device with WebGPU's
// default limits, an engine that must keep Dawn's GPU object alive, device loss in flight, un-awaited
// calls (call order, feeds copied at call time, a model refusing overlapping generation), bad files,
// misused options, and failures that must free what they allocated.
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { create } from 'webgpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArgumentError,
  BusyError,
  DeviceLostError,
  DisposedError,
  Engine,
  FormatError,
  GGUFError,
  GGUFFile,
  GPT2,
  LSTM,
  NumericError,
  SafetensorsError,
  SafetensorsFile,
  ShapeError,
  WebGPUNLPError,
  WordVectorFormatError,
  parseGloVe,
  parseWord2VecBinary,
  parseWord2VecText,
  randomGPT2Checkpoint,
  getOp,
  Word2Vec,
  type GPT2Config,
  type Tensor,
} from '../../src/index';
import { createTestEngine } from '../helpers/engine';
import { f32Bytes, writeGGUF, writeSafetensors, writeWord2VecBinary, writeWord2VecText } from '../helpers/files';
import { expectClose, f64, randn } from '../helpers/numeric';

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

const gptConfig = (JSON.parse(readFileSync('tests/fixtures/gpt2/tiny.json', 'utf8')) as { config: GPT2Config }).config;
const gptFile = new Uint8Array(readFileSync('tests/fixtures/gpt2/tiny-a.safetensors'));
const lstmFx = JSON.parse(readFileSync('tests/fixtures/lstm/tiny.json', 'utf8')) as {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
};
const lstmFile = new Uint8Array(readFileSync('tests/fixtures/lstm/tiny.safetensors'));

async function collect(it: AsyncIterable<number>): Promise<number[]> {
  const out: number[] = [];
  for await (const id of it) out.push(id);
  return out;
}

/** matmul [M, K] × [K, N] on `e` against the float64 reference, for the decode-shaped M = 1..4. */
async function checkSmallMatmuls(e: Engine): Promise<void> {
  for (const M of [1, 2, 3, 4, 9]) {
    const [K, N] = [40, 24];
    const a = randn(M * K, M);
    const b = randn(K * N, M + 10);
    const g = e.graph();
    const plan = await g.compile({ y: g.matmul(g.input('a', [M, K]), g.input('b', [K, N])) });
    plan.poison();
    const { y } = await plan.run({ a, b });
    const ref = getOp('matmul').reference(
      [f64(a), f64(b)],
      [
        { shape: [M, K], dtype: 'f32' },
        { shape: [K, N], dtype: 'f32' },
      ],
      {},
    );
    expectClose(y as Float32Array, ref, { atol: 1e-5, rtol: 1e-5 }, `matmul M=${M} on default limits`);
    plan.dispose();
  }
}

describe('portability', () => {
  it("runs matmul with M = 1..4 on an app's own device with WebGPU's default limits", async () => {
    const gpu = (globalThis as { __webgpuNlpGPU?: GPU }).__webgpuNlpGPU!;
    const adapter = (await gpu.requestAdapter())!;
    const device = await adapter.requestDevice(); // default limits: 16 KiB of workgroup storage
    const e = await Engine.create({ gpu, device });
    expect(e.limits.maxComputeWorkgroupStorageSize).toBe(16384);
    await checkSmallMatmuls(e);
    e.dispose();
    device.destroy();
  });

  it('an engine on a passed device keeps its GPU object alive through garbage collection', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // Nothing but the engine holds this GPU object or its adapter.
    const e = await (async () => {
      const gpu = create(['backend=vulkan']);
      const device = await (await gpu.requestAdapter())!.requestDevice();
      return Engine.create({ gpu, device });
    })();
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    await checkSmallMatmuls(e);
    e.dispose();
  });
});

describe('device loss', () => {
  it('a device destroyed while a run is in flight rejects with DeviceLostError, and a new engine works', async () => {
    const doomed = await createTestEngine();
    const g = doomed.graph();
    const plan = await g.compile({ y: g.matmul(g.input('a', [64, 64]), g.input('b', [64, 64])) });
    const p = plan.run({ a: randn(64 * 64, 1), b: randn(64 * 64, 2) });
    doomed.device.destroy();
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(DeviceLostError);
    expect(err.message).toMatch(/device was lost.*Engine\.create/);
    const fresh = await createTestEngine();
    await checkSmallMatmuls(fresh);
    fresh.dispose();
  });

  it('a device destroyed mid-generate rejects the next token with DeviceLostError', async () => {
    const doomed = await createTestEngine();
    const model = await GPT2.fromSafetensors(doomed, gptFile, gptConfig);
    const it = model.generate([1, 2, 3], { maxNewTokens: 8 });
    await it.next();
    const p = it.next();
    doomed.device.destroy();
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(DeviceLostError);
  });
});

describe('call order and concurrency', () => {
  it('two generate() loops on one model: the second is refused with BusyError, the first is untouched', async () => {
    const model = await GPT2.fromSafetensors(engine, gptFile, gptConfig);
    const opts = { maxNewTokens: 8, temperature: 0.9, topK: 20, seed: 7 };
    const alone = await collect(model.generate([5, 6, 7], opts));
    const a = model.generate([5, 6, 7], opts);
    const first = [(await a.next()).value as number];
    const b = model.generate([1, 2], opts);
    await expect(b.next()).rejects.toBeInstanceOf(BusyError);
    for await (const id of a) first.push(id);
    expect(first).toEqual(alone);
    // After the first finished, a new one may start.
    expect(await collect(model.generate([5, 6, 7], opts))).toEqual(alone);
    model.dispose();
  });

  it('20 un-awaited LSTM.forward() calls give the results of 20 sequential calls', async () => {
    const lstm = await LSTM.fromSafetensors(engine, lstmFile, lstmFx);
    const T = 3;
    const xs = Array.from({ length: 20 }, (_, i) => randn(T * lstmFx.inputSize, 100 + i));
    const sequential: Awaited<ReturnType<LSTM['forward']>>[] = [];
    for (const x of xs) sequential.push(await lstm.forward(x, T));
    const concurrent = await Promise.all(xs.map((x) => lstm.forward(x, T)));
    concurrent.forEach((r, i) => {
      expect(Array.from(r.output)).toEqual(Array.from(sequential[i].output));
      expect(Array.from(r.c)).toEqual(Array.from(sequential[i].c));
    });
    lstm.dispose();
  });

  it('plan.run() copies its feeds when called: refilling the array before the run starts changes nothing', async () => {
    const g = engine.graph();
    const plan = await g.compile({ y: g.add(g.input('x', [4]), g.constant('zero', new Float32Array(4))) });
    const x = new Float32Array(4);
    const runs = [];
    for (let i = 0; i < 20; i++) {
      x.fill(i);
      runs.push(plan.run({ x }));
    }
    const outs = await Promise.all(runs);
    for (const [i, o] of outs.entries()) expect(Array.from(o.y)).toEqual([i, i, i, i]);
    plan.dispose();
  });

  it('runs of two plans sharing a state execute in call order', async () => {
    const state = engine.empty([4], 'f32', 'acc');
    const ga = engine.graph('accumulate');
    const s = ga.state('s', state);
    const acc = await ga.compile({ s: ga.assign(s, ga.add(s, ga.input('x', [4]))) });
    const gr = engine.graph('read');
    const read = await gr.compile({ y: gr.slice(gr.state('s', state), 0, 4) });
    const x = Float32Array.from([1, 2, 3, 4]);
    const reads: Promise<Record<'y', unknown>>[] = [];
    const accs: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      accs.push(acc.run({ x }));
      reads.push(read.run({}));
    }
    const all = await Promise.all(reads);
    for (const [i, r] of all.entries()) expect(Array.from(r.y as Float32Array)).toEqual([1, 2, 3, 4].map((v) => v * (i + 1)));
    await Promise.all(accs);
    // Tensor reads and writes keep that order too.
    state.write(new Float32Array(4));
    const r = state.read();
    void acc.run({ x });
    state.write(Float32Array.from([9, 9, 9, 9]));
    const after = state.read();
    expect(Array.from(await r)).toEqual([0, 0, 0, 0]);
    expect(Array.from(await after)).toEqual([9, 9, 9, 9]);
    acc.dispose();
    read.dispose();
    state.dispose();
  });
});

describe('misuse is refused clearly', () => {
  it('a per-run scalar that would make assign write past its state fails at run(), before encoding', async () => {
    const state = engine.empty([16], 'f32', 'cache');
    const g = engine.graph();
    const pos = g.scalar('pos');
    const plan = await g.compile({ s: g.assign(g.state('s', state), g.input('v', [4]), { offset: { ...pos, scale: 4 } }) });
    const err = await plan.run({ v: new Float32Array(4), pos: 4 }).catch((e) => e);
    expect(err).toBeInstanceOf(ArgumentError);
    expect(err.message).toMatch(/scalar 'pos' = 4 gives assign#\d+ write offset into state \[16\] 16, outside 0\.\.12/);
    const ok = await plan.run({ v: Float32Array.from([1, 2, 3, 4]), pos: 3 });
    expect(Array.from(ok.s as Float32Array).slice(12)).toEqual([1, 2, 3, 4]);
    plan.dispose();
    state.dispose();
  });

  it('generate options out of range are ArgumentErrors naming the option', async () => {
    const model = await GPT2.fromSafetensors(engine, gptFile, gptConfig);
    const bad: [object, RegExp][] = [
      [{ maxNewTokens: -1 }, /maxNewTokens must be a non-negative integer, got -1/],
      [{ maxNewTokens: NaN }, /maxNewTokens .* got NaN/],
      [{ topP: 1.5 }, /topP must be in \(0, 1\]/],
      [{ temperature: -0.5 }, /temperature must be a finite number ≥ 0/],
      [{ topK: 2.5 }, /topK/],
      [{ seed: -1 }, /seed/],
      [{ stopToken: 1e9 }, /stop token 1000000000 is outside the vocabulary/],
      [{ stopTokens: [-1] }, /stop token -1 is outside the vocabulary/],
      [{ repetitionPenalty: -2 }, /repetitionPenalty must be a finite number > 0/],
    ];
    for (const [opts, msg] of bad) {
      const err = await model
        .generate([1, 2], opts)
        .next()
        .catch((e) => e);
      expect(err, JSON.stringify(opts)).toBeInstanceOf(ArgumentError);
      expect(err.message).toMatch(msg);
    }
    model.dispose();
  });

  it('a checkpoint holding NaN is refused naming the tensor; NaN logits stop generation with NumericError', async () => {
    const bytes = randomGPT2Checkpoint(gptConfig, 3);
    const file = SafetensorsFile.parse(bytes);
    const e = file.get('ln_f.weight');
    new DataView(bytes.buffer, bytes.byteOffset + e.begin).setFloat32(8, NaN, true);
    const err = await GPT2.fromSafetensors(engine, bytes, gptConfig).catch((x) => x);
    expect(err).toBeInstanceOf(FormatError);
    expect(err.message).toMatch(/tensor 'ln_f.weight' holds NaN at element 2/);
    // Weights changed after loading (as a bad kernel or overflow would): the sampler finds no token.
    const model = await GPT2.fromSafetensors(engine, gptFile, gptConfig);
    const lnf = (model as unknown as { w: { lnF: Tensor[] } }).w.lnF[0];
    lnf.write(new Float32Array(lnf.size).fill(NaN));
    const nan = await collect(model.generate([1, 2], { maxNewTokens: 4 })).catch((x) => x);
    expect(nan).toBeInstanceOf(NumericError);
    expect(nan.message).toMatch(/no logit is finite/);
    model.dispose();
  });

  it('an LSTM h0 of the wrong length, quantize with K = 0, and an embedding at position -1 are refused by name', async () => {
    const lstm = await LSTM.fromSafetensors(engine, lstmFile, lstmFx);
    const T = 2;
    const err = await lstm.forward(new Float32Array(T * lstmFx.inputSize), T, { h0: new Float32Array(3) }).catch((e) => e);
    expect(err).toBeInstanceOf(ArgumentError);
    expect(err.message).toMatch(/h0 has 3 values; \[numLayers 2, hiddenSize 7\] needs 14/);
    lstm.dispose();
    await expect(engine.quantize(new Float32Array(0), { K: 0, N: 4 })).rejects.toThrow(
      /quantize: K = 0 and N = 4 must be positive integers/,
    );
    const g = engine.graph();
    const ids = g.input('ids', [2], 'u32');
    expect(() => g.embedding(ids, g.input('wte', [5, 4]), g.input('wpe', [8, 4]), { pos: -1 })).toThrow(ArgumentError);
    expect(() => g.embedding(ids, g.input('wte2', [5, 4]), g.input('wpe2', [8, 4]), { pos: -1 })).toThrow(
      /embedding: pos -1 must be a non-negative integer/,
    );
  });

  it('load options and word2vec k are checked', async () => {
    await expect(GPT2.fromSafetensors(engine, gptFile, gptConfig, { weights: 'int4' as 'int8' })).rejects.toThrow(
      /weights must be one of 'f32', 'f16', 'bf16', 'int8', 'q4_0', 'q4_k', got "int4"/,
    );
    await expect(GPT2.fromSafetensors(engine, gptFile, gptConfig, { maxLength: 0 })).rejects.toBeInstanceOf(ArgumentError);
    const w2v = await Word2Vec.fromText(
      engine,
      writeWord2VecText(
        ['a', 'b', 'c'],
        [
          [1, 0],
          [0, 1],
          [1, 1],
        ],
      ),
    );
    for (const k of [0, 2.5, NaN]) await expect(w2v.mostSimilar('a', k), String(k)).rejects.toThrow(/k must be a positive integer/);
    expect((await w2v.mostSimilar('a', 1))[0].word).toBe('c');
    w2v.dispose();
  });

  it('every error the library throws extends WebGPUNLPError', async () => {
    const errs = [
      await Promise.resolve()
        .then(() => GGUFFile.parse(new Uint8Array(4)))
        .catch((e) => e),
      await Promise.resolve()
        .then(() => SafetensorsFile.parse(new Uint8Array(4)))
        .catch((e) => e),
      await Promise.resolve()
        .then(() => parseGloVe(''))
        .catch((e) => e),
      await Promise.resolve()
        .then(() => engine.graph().input('x', [0]))
        .catch((e) => e),
    ];
    const t = engine.tensor(new Float32Array(2));
    t.dispose();
    errs.push(await t.read().catch((e) => e));
    for (const e of errs) expect(e).toBeInstanceOf(WebGPUNLPError);
    expect(errs[4]).toBeInstanceOf(DisposedError);
    expect(errs[3]).toBeInstanceOf(ShapeError);
  });
});

describe('failures free what they allocated', () => {
  it('compile failures after allocation (undeclared scalar, disposed constant) leave engine.memory() unchanged', async () => {
    const before = engine.memory().liveBytes;
    const state = engine.empty([16], 'f32', 'cache');
    const g = engine.graph();
    const y = g.assign(g.state('s', state), g.input('v', [4]), { offset: { scalar: 'never_declared' } });
    await expect(g.compile({ y })).rejects.toThrow(/scalar 'never_declared' was not declared/);
    const w = engine.tensor(new Float32Array(64), [8, 8], 'soon gone');
    const g2 = engine.graph();
    const y2 = g2.matmul(g2.input('x', [3, 8]), g2.constant('w', w));
    w.dispose(); // after the graph was built, before it compiles
    await expect(g2.compile({ y: y2 })).rejects.toBeInstanceOf(DisposedError);
    state.dispose();
    expect(engine.memory().liveBytes).toBe(before);
  });

  it('a constant from another engine is refused at build time', async () => {
    const other = await createTestEngine();
    const w = other.tensor(new Float32Array(4));
    const before = engine.memory().liveBytes;
    expect(() => engine.graph().constant('w', w)).toThrow(/belongs to another engine/);
    expect(engine.memory().liveBytes).toBe(before);
    other.dispose();
  });
});

describe('bounded caches', () => {
  it('100 distinct prompt lengths keep GPU memory bounded (plans and pooled buffers)', async () => {
    const e = await createTestEngine({ poolBytes: 16 * 2 ** 20 });
    const cfg = { n_layer: 1, n_head: 4, n_embd: 64, vocab_size: 4096, n_positions: 128 };
    const model = await GPT2.fromSafetensors(e, randomGPT2Checkpoint(cfg), cfg);
    const total = () => e.memory().liveBytes + e.memory().pooledBytes;
    const prompt = (T: number) => Array.from({ length: T }, (_, i) => (i * 31) % cfg.vocab_size);
    const base = total(); // weights and KV caches
    await model.forward(prompt(100));
    const largest = total() - base; // one plan at the longest length, with its staging buffer
    let peak = 0;
    for (let T = 1; T < 100; T++) {
      await model.forward(prompt(T));
      peak = Math.max(peak, total() - base);
      expect(model.cachedPlans).toBeLessThanOrEqual(8);
    }
    // At most 8 cached plans, none larger than the T = 100 one, plus what the pool may keep idle. One plan
    // per length (the old behaviour) would hold about 50 times the largest plan.
    console.log(
      `100 prompt lengths: peak ${(peak / 2 ** 20).toFixed(1)} MiB of plans and pooled buffers; one T=100 plan ${(largest / 2 ** 20).toFixed(2)} MiB`,
    );
    expect(peak).toBeLessThanOrEqual(8 * largest + 16 * 2 ** 20);
    model.dispose();
    await new Promise((r) => setTimeout(r, 10)); // plans are disposed once their compile promises settle
    // Weights, caches and plans freed: only the engine's 16-byte placeholder for unused bindings is live.
    expect(e.memory().liveBytes).toBeLessThanOrEqual(16);
    e.dispose();
  });
});

describe('files are refused before anything is allocated', () => {
  const grew = (f: () => unknown) => {
    const before = process.memoryUsage().arrayBuffers;
    let err: unknown;
    try {
      f();
    } catch (e) {
      err = e;
    }
    return { err: err as Error, grown: process.memoryUsage().arrayBuffers - before };
  };

  it('word-vector headers claiming more than the file holds', () => {
    for (const h of ['1000000 1000', '4294967295 1', '100000000 40', '1000000000 300']) {
      const bytes = writeWord2VecBinary(
        ['a', 'b'],
        [
          [1, 2],
          [3, 4],
        ],
        h,
      );
      const { err, grown } = grew(() => parseWord2VecBinary(bytes));
      expect(err, h).toBeInstanceOf(WordVectorFormatError);
      expect(err.message).toMatch(/header says .* which needs at least .* bytes/);
      expect(grown).toBeLessThan(1 << 20);
    }
    const text = grew(() => parseWord2VecText('1 1000000000\na 1 2\n'));
    expect(text.err).toBeInstanceOf(WordVectorFormatError);
    expect(text.grown).toBeLessThan(1 << 20);
    const wide = `w ${Array(20000).fill('1').join(' ')}\n${Array.from({ length: 20000 }, (_, i) => `x${i} 1`).join('\n')}`;
    const glove = grew(() => parseGloVe(wide));
    expect(glove.err).toBeInstanceOf(WordVectorFormatError);
    expect(glove.grown).toBeLessThan(64 << 20);
  });

  it('NaN inside binary vectors, and duplicated words, are named', () => {
    expect(() =>
      parseWord2VecBinary(
        writeWord2VecBinary(
          ['a', 'b'],
          [
            [1, NaN],
            [3, 4],
          ],
        ),
      ),
    ).toThrow(/word 1 \('a'\) holds NaN at component 1/);
    expect(() =>
      parseWord2VecBinary(
        writeWord2VecBinary(
          ['a', 'a'],
          [
            [1, 2],
            [3, 4],
          ],
        ),
      ),
    ).toThrow(/'a' appears twice/);
    const first = parseWord2VecText(
      writeWord2VecText(
        ['a', 'b', 'a'],
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
      ),
      { duplicates: 'first' },
    );
    expect(first.words).toEqual(['a', 'b']);
    expect(Array.from(first.vectors)).toEqual([1, 2, 3, 4]);
  });

  it('GGUF: invalid UTF-8, deep nesting, bad alignment, duplicate keys and names', () => {
    const t = { name: 'v', dims: [4], type: 0, data: f32Bytes([1, 2, 3, 4]) };
    const ok = writeGGUF([['general.alignment', 4, 32]], [t]);
    expect(Array.from(GGUFFile.parse(ok).float32('v'))).toEqual([1, 2, 3, 4]);
    expect(() => GGUFFile.parse(writeGGUF([['k', 8, new Uint8Array([0xff, 0xfe])]], []))).toThrow(
      /'k' \(2 bytes at byte \d+\) is not valid UTF-8/,
    );
    // An array of arrays of arrays …, 200,000 deep: refused without recursing that far.
    const nested = writeGGUF([['k', 4, 0]], []);
    const bytes = new Uint8Array(nested.length + 12 * 200_000);
    bytes.set(nested);
    const view = new DataView(bytes.buffer);
    // Rewrite the one key as an array nesting arrays: type 9, then (item type 9, count 1) repeated.
    let p = 4 + 4 + 8 + 8 + 8 + 1;
    view.setUint32(p, 9, true);
    p += 4;
    for (let i = 0; i < 200_000 && p + 12 <= bytes.length; i++, p += 12) {
      view.setUint32(p, 9, true);
      view.setBigUint64(p + 4, 1n, true);
    }
    expect(() => GGUFFile.parse(bytes)).toThrow(/nests arrays more than 4 deep/);
    for (const a of [0, 3, 33, -32]) {
      expect(() => GGUFFile.parse(writeGGUF([['general.alignment', 5, a]], [t])), String(a)).toThrow(
        /general.alignment must be a power of two/,
      );
    }
    expect(() => GGUFFile.parse(writeGGUF([['general.alignment', 6, NaN]], [t]))).toThrow(GGUFError);
    expect(() => GGUFFile.parse(writeGGUF([['general.alignment', 8, 'abc']], [t]))).toThrow(/power of two, got "abc"/);
    expect(() =>
      GGUFFile.parse(
        writeGGUF(
          [
            ['a', 4, 1],
            ['a', 4, 2],
          ],
          [],
        ),
      ),
    ).toThrow(/metadata key 'a' appears twice/);
    expect(() => GGUFFile.parse(writeGGUF([], [t, { ...t, data: f32Bytes([5, 6, 7, 8]) }]))).toThrow(/tensor 'v' appears twice/);
    expect(() => GGUFFile.parse(writeGGUF([], [{ ...t, offset: 4 }]))).toThrow(/data offset 4, not a multiple of the alignment 32/);
  });

  it('safetensors: repeated header keys and unknown dtypes are named', () => {
    const data = f32Bytes([1, 2]);
    const entry = '{"dtype":"F32","shape":[2],"data_offsets":[0,8]}';
    expect(() => SafetensorsFile.parse(writeSafetensors(`{"w":${entry},"w":${entry}}`, data))).toThrow(/names 'w' twice/);
    expect(() =>
      SafetensorsFile.parse(writeSafetensors('{"w":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}}', data)),
    ).toThrow(/'dtype' twice/);
    const err = (() => {
      try {
        SafetensorsFile.parse(writeSafetensors({ w: { dtype: { x: 1 }, shape: [2], data_offsets: [0, 8] } }, data));
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(SafetensorsError);
    expect(err!.message).toMatch(/unknown dtype \{"x":1\}/);
  });
});
