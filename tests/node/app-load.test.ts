// loadModel against a local HTTP server (tests/helpers/model-server.ts), every kind of source: a .gguf
// URL, a Hugging Face folder URL with sharded weights, an encoder folder (sentence-transformers), a
// GPT-2 folder, a lone .safetensors URL, a File, named files of a folder, bytes. Each loaded model is
// checked against the same weights loaded directly (or the fixture's float64 reference). The cache is a
// directory: a second load makes no request (counted at the server); a cancelled, truncated, 404 or
// HTML download fails with the URL and status named and leaves nothing in the cache.
import { mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CharTokenizer,
  DownloadError,
  Encoder,
  GPT2,
  Llama,
  TextTokenizer,
  deleteCached,
  listCached,
  loadModel,
  type Engine,
  type LoadProgress,
} from '../../src/index';
import { appFixtureFiles } from '../helpers/app-fixtures';
import { createTestEngine } from '../helpers/engine';
import { type ModelServer, startModelServer } from '../helpers/model-server';
import { expectClose, f64, maxAbs } from '../helpers/numeric';

let engine: Engine;
let server: ModelServer;
let dir: string;
beforeAll(async () => {
  engine = await createTestEngine();
  server = await startModelServer(appFixtureFiles());
});
afterAll(async () => {
  engine?.dispose();
  await server?.close();
});

const fresh = () => {
  dir = mkdtempSync(join(tmpdir(), 'webgpu-nlp-cache-'));
  return { dir };
};
const gguf = () => new Uint8Array(readFileSync('tests/fixtures/llama/kjv-llama-q8_0.gguf'));

async function collect(it: AsyncIterable<number>): Promise<number[]> {
  const out: number[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The same greedy tokens as the model loaded straight from the GGUF bytes. */
async function expectLikeDirectGGUF(model: unknown, prompt: number[]) {
  const ref = await Llama.fromGGUF(engine, gguf());
  const want = await collect(ref.generate(prompt, { maxNewTokens: 4, stopTokens: [] }));
  ref.dispose();
  expect(await collect((model as Llama).generate(prompt, { maxNewTokens: 4, stopTokens: [] }))).toEqual(want);
}

describe('loadModel: sources', () => {
  it('a .gguf URL: downloads with progress, finds the vocabulary and chat template; a second load reads the cache with no request', async () => {
    const cache = fresh();
    const url = `${server.url}/gguf/kjv.gguf`;
    const size = server.files.get('/gguf/kjv.gguf')!.body.length;
    server.reset();
    const events: LoadProgress[] = [];
    const a = await loadModel(url, { engine, cache, onProgress: (p) => events.push(p) });
    expect(a.model).toBeInstanceOf(Llama);
    expect(a.tokenizer).toBeInstanceOf(TextTokenizer);
    expect(a.info).toMatchObject({
      kind: 'decoder',
      arch: 'llama',
      format: 'gguf',
      tokenizer: 'gguf',
      chatTemplate: true,
      downloadedBytes: size,
      fromCacheBytes: 0,
    });
    const downloads = events.filter((e) => e.phase === 'download');
    expect(downloads.length).toBeGreaterThan(1);
    expect(downloads.at(-1)).toMatchObject({ loaded: size, total: size, fromCache: false, file: 'kjv.gguf' });
    for (let i = 1; i < downloads.length; i++) expect(downloads[i].loaded).toBeGreaterThanOrEqual(downloads[i - 1].loaded);
    expect(server.requests.get('/gguf/kjv.gguf')).toBe(1);
    const prompt = (a.tokenizer as TextTokenizer).encodeChat([{ role: 'user', content: 'In the beginning' }]);
    await expectLikeDirectGGUF(a.model, prompt);
    a.dispose();

    server.reset();
    const b = await loadModel(url, { engine, cache, onProgress: (p) => events.push(p) });
    expect(server.total()).toBe(0);
    expect(b.info).toMatchObject({ fromCacheBytes: size, downloadedBytes: 0 });
    expect(events.at(-1)).toMatchObject({ phase: 'build' });
    expect(events.filter((e) => e.phase === 'download').at(-1)).toMatchObject({ fromCache: true, loaded: size });
    await expectLikeDirectGGUF(b.model, prompt);
    b.dispose();
  });

  it('a Hugging Face folder URL: config.json, tokenizer files, two shards from model.safetensors.index.json in parallel; cached as a whole', async () => {
    const cache = fresh();
    const base = `${server.url}/hf/kjv-llama/`;
    server.reset();
    const files = new Set<string>();
    const a = await loadModel(base, { engine, cache, onProgress: (p) => p.file && files.add(p.file) });
    expect(a.model).toBeInstanceOf(Llama);
    expect(a.info).toMatchObject({
      kind: 'decoder',
      arch: 'llama',
      format: 'safetensors',
      files: 2,
      tokenizer: 'tokenizer.json',
      chatTemplate: true,
    });
    expect([...files]).toEqual(
      expect.arrayContaining(['config.json', 'tokenizer.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']),
    );
    for (const f of [
      'config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
    ])
      expect(server.requests.get(`/hf/kjv-llama/${f}`), f).toBe(1);
    expect(server.requests.has('/hf/kjv-llama/model.safetensors')).toBe(false);
    // The shards hold every tensor of the single file: the same logits as that file loaded directly.
    const dirPath = 'public/models/kjv-llama';
    const ref = await Llama.fromSafetensors(
      engine,
      new Uint8Array(readFileSync(`${dirPath}/model.safetensors`)),
      JSON.parse(readFileSync(`${dirPath}/config.json`, 'utf8')),
    );
    const ids = (a.tokenizer as TextTokenizer).encode('And God said, Let there be light');
    const want = await ref.forward(ids);
    ref.dispose();
    expect(await (a.model as Llama).forward(ids)).toEqual(want);
    a.dispose();

    server.reset();
    const b = await loadModel(base, { engine, cache });
    expect(Object.fromEntries(server.requests)).toEqual({}); // optional files it lacked (modules.json) are not asked again
    expect(await (b.model as Llama).forward(ids)).toEqual(want);
    b.dispose();
  });

  it('an encoder folder: BERT with a WordPiece tokenizer.json and sentence-transformers pooling (mean, normalized)', async () => {
    const exp = JSON.parse(readFileSync('tests/fixtures/encoder/expected.json', 'utf8')).bert as {
      ids: number[][];
      typeIds: number[][];
      hidden: number[][];
    };
    const r = await loadModel(`${server.url}/hf/bert`, { engine, cache: false });
    expect(r.model).toBeInstanceOf(Encoder);
    expect(r.info).toMatchObject({ kind: 'encoder', arch: 'bert', files: 1, tokenizer: 'tokenizer.json', chatTemplate: false });
    const enc = r.model as Encoder;
    const hidden = await enc.forward({ ids: exp.ids, typeIds: exp.typeIds });
    for (const [i, h] of hidden.entries())
      expectClose(
        h,
        f64(Float32Array.from(exp.hidden[i])),
        { atol: 1e-4 * maxAbs(Float64Array.from(exp.hidden[i])), rtol: 0 },
        `sequence ${i}`,
      );
    const tok = r.tokenizer as TextTokenizer;
    expect(tok.encode('A b c 9')).toEqual([2, 5, 6, 7, 40, 3]); // [CLS] a b c 9 [SEP] (lower-cased)
    const v = await enc.embed([tok.encode('a b c')]);
    expect(Math.hypot(...v)).toBeCloseTo(1, 5); // the Normalize module
    r.dispose();
    // The folder again with its JSON gzip-compressed in transfer: Content-Length counts compressed bytes.
    const cache = fresh();
    for (let i = 0; i < 2; i++) {
      const gz = await loadModel(`${server.url}/hf/bert-gz/`, { engine, cache });
      expect((gz.tokenizer as TextTokenizer).encode('A b c 9')).toEqual([2, 5, 6, 7, 40, 3]);
      gz.dispose();
    }
    await new Promise((done) => setTimeout(done, 0)); // plans are released in a microtask
    const live = engine.memory().liveBytes;
    await expect(loadModel(`${server.url}/hf/bert/`, { engine, cache: false, kind: 'decoder' })).rejects.toThrow(
      /hf\/bert\/ is an encoder \(bert\); the app asked for a decoder/,
    );
    expect(engine.memory().liveBytes).toBe(live); // the refused model was freed
  });

  it('a GPT-2 folder (model_type gpt2, no tokenizer files): the logits of the fixture, tokenizer null', async () => {
    const exp = JSON.parse(readFileSync('tests/fixtures/gpt2/tiny.json', 'utf8')) as { ids: number[]; logits_a: number[] };
    const r = await loadModel(`${server.url}/hf/gpt2/`, { engine, cache: false });
    expect(r.model).toBeInstanceOf(GPT2);
    expect(r.tokenizer).toBeNull();
    expect(r.info).toMatchObject({ arch: 'gpt2', tokenizer: null, vocab: 101 });
    const logits = await (r.model as GPT2).forward(exp.ids);
    expectClose(
      logits,
      f64(Float32Array.from(exp.logits_a)),
      { atol: 1e-4 * maxAbs(Float64Array.from(exp.logits_a)), rtol: 0 },
      'gpt2 folder',
    );
    r.dispose();
  });

  it('a lone .safetensors URL carrying its config and character vocabulary', async () => {
    const r = await loadModel(`${server.url}/st/char-gpt.safetensors`, { engine, cache: false });
    expect(r.model).toBeInstanceOf(GPT2);
    expect(r.tokenizer).toBeInstanceOf(CharTokenizer);
    expect(r.info).toMatchObject({ format: 'safetensors', tokenizer: 'characters' });
    const tok = r.tokenizer as CharTokenizer;
    expect(tok.decode(tok.encode('In the beginning'))).toBe('In the beginning');
    r.dispose();
  });

  it('a File, bytes, and the named files of a dropped folder load without the network', async () => {
    server.reset();
    const prompt = [5, 9, 300];
    for (const source of [new File([gguf()], 'kjv.gguf'), gguf(), gguf().buffer]) {
      const r = await loadModel(source, { engine });
      expect(r.info).toMatchObject({ format: 'gguf', url: null, downloadedBytes: 0 });
      await expectLikeDirectGGUF(r.model, prompt);
      r.dispose();
    }
    const folder = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'].map((f) => ({
      name: `kjv-llama/${f}`,
      bytes: new Uint8Array(readFileSync(`public/models/kjv-llama/${f}`)),
    }));
    const r = await loadModel(folder, { engine });
    expect(r.info).toMatchObject({ name: 'kjv-llama', files: 1, tokenizer: 'tokenizer.json', chatTemplate: true });
    r.dispose();
    expect(server.total()).toBe(0);
  });
});

describe('loadModel: warmup', () => {
  it('warmup compiles ahead with progress (phase warmup, i / n); a prompt within the warmed length then compiles no plan', async () => {
    const events: LoadProgress[] = [];
    const r = await loadModel(gguf(), { engine, maxLength: 32, warmup: { maxPromptTokens: 16 }, onProgress: (p) => events.push(p) });
    const warm = events.filter((e) => e.phase === 'warmup');
    expect(warm.length).toBeGreaterThan(1);
    expect(warm.at(-1)!.loaded).toBe(warm.at(-1)!.total);
    expect(warm.at(-1)!.text).toMatch(/compiling kernels \d+ \/ \d+/);
    for (let i = 1; i < warm.length; i++) expect(warm[i].loaded).toBeGreaterThanOrEqual(warm[i - 1].loaded);
    const model = r.model as Llama;
    const plans = model.cachedPlans;
    expect(plans).toBeGreaterThan(0);
    await collect(model.generate([5, 9, 300, 41, 7], { maxNewTokens: 3, stopTokens: [] }));
    expect(model.cachedPlans).toBe(plans);
    r.dispose();
  });
});

describe('loadModel: failures and the cache', () => {
  it('cancel mid-download: rejects with AbortError soon after the signal, keeps nothing', async () => {
    const cache = fresh();
    const ctrl = new AbortController();
    const url = `${server.url}/slow/char-gpt.safetensors`;
    let seen = 0;
    const t0 = Date.now();
    const p = loadModel(url, {
      engine,
      cache,
      signal: ctrl.signal,
      onProgress: (e) => {
        if (e.phase === 'download' && ++seen === 3) ctrl.abort();
      },
    });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - t0).toBeLessThan(10_000); // the whole file takes ~16 s
    expect(seen).toBeLessThan(10);
    expect(await listCached({ cache })).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a truncated download (Content-Length not reached) is an error naming the URL, and nothing is cached', async () => {
    const cache = fresh();
    const url = `${server.url}/truncated.gguf`;
    const err = await loadModel(url, { engine, cache }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).url).toBe(url);
    expect((err as Error).message).toContain(url);
    expect((err as Error).message).toMatch(/Content-Length/);
    expect(await listCached({ cache })).toEqual([]);
  });

  it('404: a DownloadError with the URL and HTTP status, for a file and for a folder without config.json', async () => {
    for (const url of [`${server.url}/missing.gguf`, `${server.url}/hf/nothing-here/`]) {
      const err = await loadModel(url, { engine, cache: fresh() }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DownloadError);
      expect(err).toMatchObject({ status: 404 });
      expect((err as Error).message).toContain('HTTP 404');
      expect((err as Error).message).toContain(url.endsWith('/') ? `${url}config.json` : url);
    }
  });

  it('an HTML page in place of the model: a clear error, by content-type or by its first bytes', async () => {
    for (const path of ['/html/model.gguf', '/html-sniff/model.gguf']) {
      const cache = fresh();
      const err = await loadModel(`${server.url}${path}`, { engine, cache }).catch((e: unknown) => e);
      expect(err, path).toBeInstanceOf(DownloadError);
      expect((err as Error).message).toMatch(/HTML page.*not a model file.*resolve\/main/);
      expect(await listCached({ cache })).toEqual([]);
    }
  });

  it('listCached / deleteCached; a cached file cut short is dropped and downloaded again; revalidate follows a new ETag', async () => {
    const cache = fresh();
    const url = `${server.url}/gguf/kjv.gguf`;
    const size = server.files.get('/gguf/kjv.gguf')!.body.length;
    (await loadModel(url, { engine, cache })).dispose();
    (await loadModel(`${server.url}/hf/bert/`, { engine, cache })).dispose();
    const listed = await listCached({ cache });
    expect(listed.find((f) => f.url === url)).toMatchObject({ bytes: size, etag: server.files.get('/gguf/kjv.gguf')!.etag });
    expect(listed.some((f) => f.url === `${server.url}/hf/bert/model.safetensors`)).toBe(true);

    // A file on disk shorter than its record is never used.
    const bin = readdirSync(dir)
      .filter((f) => f.endsWith('.bin'))
      .map((f) => join(dir, f))
      .find((f) => readFileSync(f).length === size)!;
    truncateSync(bin, 100);
    server.reset();
    (await loadModel(url, { engine, cache })).dispose();
    expect(server.requests.get('/gguf/kjv.gguf')).toBe(1);

    // revalidate: a HEAD request; the same ETag keeps the cached file, a new one downloads it again.
    server.reset();
    (await loadModel(url, { engine, cache, revalidate: true })).dispose();
    expect(server.requests.get('/gguf/kjv.gguf')).toBe(1); // the HEAD only
    server.files.get('/gguf/kjv.gguf')!.etag = '"changed"';
    server.reset();
    (await loadModel(url, { engine, cache, revalidate: true })).dispose();
    expect(server.requests.get('/gguf/kjv.gguf')).toBe(2); // HEAD + GET
    expect((await listCached({ cache })).find((f) => f.url === url)?.etag).toBe('"changed"');

    expect(await deleteCached(`${server.url}/hf/bert/`, { cache })).toBeGreaterThanOrEqual(3);
    expect((await listCached({ cache })).map((f) => f.url)).toEqual([url]);
    expect(await deleteCached(undefined, { cache })).toBe(1);
    expect(await listCached({ cache })).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });
});
