// loadEncoderFolder: a model folder as a browser's folder picker gives it (paths under the folder's own
// name), with a sentence-transformers modules.json whose Pooling config and Normalize module become
// embed()'s defaults, checked against the float64 hidden states of tools/make_encoder_fixture.py's bare
// BERT; the tokenizer read where the folder has one; missing and bad files named in the error.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, type Engine, type FolderFile, UnsupportedError, loadEncoderFolder } from '../../src/index';
import { createTestEngine } from '../helpers/engine';
import { expectClose, maxAbs } from '../helpers/numeric';

const expected = JSON.parse(readFileSync('tests/fixtures/encoder/expected.json', 'utf8')).bare as {
  config: Record<string, unknown>;
  ids: number[][];
  typeIds: number[][];
  hidden: number[][];
};
const C = 32;
const enc = (x: unknown) => new TextEncoder().encode(typeof x === 'string' ? x : JSON.stringify(x));
const modules = (normalize: boolean) => [
  { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
  { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ...(normalize ? [{ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' }] : []),
];
const pooling = (mode: string) => ({
  word_embedding_dimension: C,
  pooling_mode_cls_token: mode === 'cls_token',
  pooling_mode_mean_tokens: mode === 'mean_tokens',
  pooling_mode_max_tokens: mode === 'max_tokens',
  pooling_mode_mean_sqrt_len_tokens: mode === 'mean_sqrt_len_tokens',
});
function folder(o: { mode?: string; normalize?: boolean; top?: string; tokenizer?: boolean } = {}): FolderFile[] {
  const top = o.top === undefined ? 'all-tiny-v2/' : o.top;
  const files: FolderFile[] = [
    { name: `${top}config.json`, bytes: enc(expected.config) },
    { name: `${top}model.safetensors`, bytes: new Uint8Array(readFileSync('tests/fixtures/encoder/bert-bare.safetensors')) },
  ];
  if (o.mode) {
    files.push({ name: `${top}modules.json`, bytes: enc(modules(!!o.normalize)) });
    files.push({ name: `${top}1_Pooling/config.json`, bytes: enc(pooling(o.mode)) });
  }
  if (o.tokenizer) {
    for (const f of ['tokenizer.json', 'tokenizer_config.json'])
      files.push({ name: `${top}${f}`, bytes: new Uint8Array(readFileSync(`public/models/kjv-bert/${f}`)) });
  }
  return files;
}

/** The float64 reference: each sequence's hidden states pooled, L2-normalised if asked. */
function reference(how: 'mean' | 'cls' | 'max', normalize: boolean): number[] {
  return expected.hidden.flatMap((h) => {
    const T = h.length / C;
    const v = Array.from({ length: C }, (_, c) => {
      const col = Array.from({ length: T }, (_, t) => h[t * C + c]);
      return how === 'cls' ? col[0] : how === 'max' ? Math.max(...col) : col.reduce((a, b) => a + b, 0) / T;
    });
    const n = normalize ? Math.hypot(...v) : 1;
    return v.map((x) => x / n);
  });
}

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

describe('loadEncoderFolder', () => {
  it("a sentence-transformers folder sets embed()'s pooling and normalisation; options.embed overrides them", async () => {
    const batch = { ids: expected.ids, typeIds: expected.typeIds };
    for (const [mode, normalize, how] of [
      ['mean_tokens', true, 'mean'],
      ['cls_token', false, 'cls'],
      ['max_tokens', true, 'max'],
    ] as const) {
      const m = await loadEncoderFolder(engine, folder({ mode, normalize, tokenizer: true }));
      try {
        expect(m.embed).toEqual({ pooling: how, normalize });
        expect(m.tokenizer).not.toBeNull();
        const want = Float64Array.from(reference(how, normalize));
        expectClose(Float64Array.from(await m.encoder.embed(batch)), want, { atol: 1e-4 * maxAbs(want), rtol: 0 }, mode);
      } finally {
        m.encoder.dispose();
      }
    }
    const over = await loadEncoderFolder(engine, folder({ mode: 'mean_tokens', normalize: true, top: '' }), {
      embed: { normalize: false },
    });
    expect(over.embed).toEqual({ pooling: 'mean', normalize: false });
    expect(over.tokenizer).toBeNull();
    const want = Float64Array.from(reference('mean', false));
    const got = await over.encoder.embed({ ids: expected.ids, typeIds: expected.typeIds });
    expectClose(Float64Array.from(got), want, { atol: 1e-4 * maxAbs(want), rtol: 0 }, 'mean, normalize overridden');
    over.encoder.dispose();
  });

  it('a plain Hugging Face folder: no modules.json, the Encoder defaults (mean, not normalised)', async () => {
    const m = await loadEncoderFolder(engine, folder({ top: 'bert/' }));
    expect(m.embed).toEqual({});
    expect(m.config.model_type).toBe('bert');
    const want = Float64Array.from(reference('mean', false));
    const got = await m.encoder.embed({ ids: expected.ids, typeIds: expected.typeIds });
    expectClose(Float64Array.from(got), want, { atol: 1e-4 * maxAbs(want), rtol: 0 }, 'default mean');
    m.encoder.dispose();
  });

  it("the bundled KJV BERT folder: fill-mask and the testament classifier equal tools/train_bert.py's float64 PyTorch", async () => {
    const dir = 'public/models/kjv-bert';
    const names = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'modules.json', '1_Pooling/config.json'];
    const m = await loadEncoderFolder(
      engine,
      names.map((n) => ({ name: `kjv-bert/${n}`, bytes: new Uint8Array(readFileSync(`${dir}/${n}`)) })),
    );
    try {
      const rec = JSON.parse(readFileSync('demos/bert/recorded.json', 'utf8')) as {
        sentence: string;
        fill: { token: string; p: number }[];
        classify: { text: string; scores: Record<string, number> };
      };
      expect(m.embed).toEqual({ pooling: 'mean', normalize: true });
      const tok = m.tokenizer!;
      const [[mask]] = await m.encoder.fillMask([tok.encode(rec.sentence)], { maskId: tok.tokenId('[MASK]')!, topK: 5 });
      const vocab = readFileSync(`${dir}/vocab.txt`, 'utf8').split('\n');
      expect(mask.tokens.map((t) => vocab[t.id])).toEqual(rec.fill.map((t) => t.token));
      // recorded to 4 decimals; the F16 weights are the same on both sides
      expectClose(
        Float64Array.from(mask.tokens.map((t) => t.score)),
        Float64Array.from(rec.fill.map((t) => t.p)),
        { atol: 2e-4, rtol: 0 },
        'fill',
      );
      const scores = await m.encoder.classifyScores([tok.encode(rec.classify.text)]);
      expect(m.encoder.labels).toEqual(Object.keys(rec.classify.scores));
      expectClose(Float64Array.from(scores), Float64Array.from(Object.values(rec.classify.scores)), { atol: 2e-4, rtol: 0 }, 'classify');
    } finally {
      m.encoder.dispose();
    }
  });

  it('missing and bad files are named; an unsupported pooling fails before any GPU memory is taken', async () => {
    const before = engine.memory().liveBytes;
    await expect(loadEncoderFolder(engine, [])).rejects.toThrow(/the folder has no files/);
    await expect(loadEncoderFolder(engine, folder().slice(1))).rejects.toThrow(/no config.json/);
    await expect(loadEncoderFolder(engine, folder().slice(0, 1))).rejects.toThrow(/no .safetensors weights/);
    const bad = folder({ mode: 'mean_tokens' });
    bad[2] = { name: bad[2].name, bytes: enc('[{') };
    await expect(loadEncoderFolder(engine, bad)).rejects.toThrow(ArgumentError);
    await expect(loadEncoderFolder(engine, bad)).rejects.toThrow(/modules.json is not valid JSON/);
    await expect(loadEncoderFolder(engine, folder({ mode: 'mean_sqrt_len_tokens' }))).rejects.toThrow(UnsupportedError);
    expect(engine.memory().liveBytes).toBe(before);
  });
});
