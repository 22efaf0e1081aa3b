// loadModel in Chromium (WebGPU on SwiftShader) against the local model server the project's global
// setup starts (tests/browser/model-server.setup.ts), with Cache Storage as the cache: each kind of
// source, progress, a second load with no request (counted at the server), cancel mid-download, a
// truncated download, 404 and an HTML page; then the same engine in a worker (createWorkerEngine /
// exposeEngine): progress and errors cross as events (the error's class kept), tokens stream and stop
// on break or an AbortSignal, bytes are transferred.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  CACHE_NAME,
  DownloadError,
  Encoder,
  type Engine,
  GPT2,
  type GeneratedToken,
  Llama,
  type LoadProgress,
  TextTokenizer,
  type WorkerEngine,
  createWorkerEngine,
  deleteCached,
  listCached,
  loadModel,
} from '../../src/index';
import { createTestEngine } from '../helpers/engine';

const server = inject('modelServer');
const requests = async (): Promise<Record<string, number>> => (await fetch(`${server}/__requests`)).json();
const reset = () => fetch(`${server}/__reset`);

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
  await caches.delete(CACHE_NAME);
});
afterAll(async () => {
  engine?.dispose();
  await caches.delete(CACHE_NAME);
});

async function take(it: AsyncIterable<number>): Promise<number[]> {
  const out: number[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('loadModel in the browser (Cache Storage)', () => {
  it('a .gguf URL: progress, then a second load from Cache Storage with no request; deleteCached forgets it', async () => {
    const url = `${server}/gguf/kjv.gguf`;
    await reset();
    const events: LoadProgress[] = [];
    const a = await loadModel(url, { engine, onProgress: (p) => events.push(p) });
    expect(a.model).toBeInstanceOf(Llama);
    expect(a.tokenizer).toBeInstanceOf(TextTokenizer);
    const size = a.info.downloadedBytes;
    expect(size).toBeGreaterThan(100_000);
    expect(events.filter((e) => e.phase === 'download').at(-1)).toMatchObject({ loaded: size, total: size, fromCache: false });
    expect(await requests()).toEqual({ '/gguf/kjv.gguf': 1 });
    const prompt = (a.tokenizer as TextTokenizer).encode('In the beginning');
    const first = await take((a.model as Llama).generate(prompt, { maxNewTokens: 3, stopTokens: [] }));
    a.dispose();
    expect((await listCached()).find((f) => f.url === url)).toMatchObject({ bytes: size });

    await reset();
    const b = await loadModel(url, { engine });
    expect(await requests()).toEqual({});
    expect(b.info).toMatchObject({ fromCacheBytes: size, downloadedBytes: 0 });
    expect(await take((b.model as Llama).generate(prompt, { maxNewTokens: 3, stopTokens: [] }))).toEqual(first);
    b.dispose();

    expect(await deleteCached(url)).toBe(1);
    await reset();
    (await loadModel(url, { engine, cache: false })).dispose();
    expect(await requests()).toEqual({ '/gguf/kjv.gguf': 1 });
  });

  it('a Hugging Face folder with two shards, then again with no request; an encoder folder; a GPT-2 folder', async () => {
    await reset();
    const a = await loadModel(`${server}/hf/kjv-llama/`, { engine });
    expect(a.info).toMatchObject({ arch: 'llama', files: 2, tokenizer: 'tokenizer.json', chatTemplate: true });
    a.dispose();
    const asked = await requests();
    expect(asked['/hf/kjv-llama/model-00001-of-00002.safetensors']).toBe(1);
    expect(asked['/hf/kjv-llama/model-00002-of-00002.safetensors']).toBe(1);
    await reset();
    (await loadModel(`${server}/hf/kjv-llama/`, { engine })).dispose();
    expect(await requests()).toEqual({});

    // JSON sent gzip-compressed: a cross-origin page sees the compressed Content-Length but not the
    // Content-Encoding, and the decoded body is longer; it loads, is cached, and loads again offline.
    for (let i = 0; i < 2; i++) {
      await reset();
      const gz = await loadModel(`${server}/hf/bert-gz/`, { engine });
      expect((gz.tokenizer as TextTokenizer).encode('A b c 9')).toEqual([2, 5, 6, 7, 40, 3]);
      gz.dispose();
      if (i === 1) expect(await requests()).toEqual({});
    }

    const bert = await loadModel(`${server}/hf/bert/`, { engine, cache: false });
    expect(bert.model).toBeInstanceOf(Encoder);
    const v = await (bert.model as Encoder).embed([(bert.tokenizer as TextTokenizer).encode('a b c')]);
    expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    bert.dispose();

    const gpt = await loadModel(`${server}/hf/gpt2/`, { engine, cache: false });
    expect(gpt.model).toBeInstanceOf(GPT2);
    gpt.dispose();
  });

  it('a File and a FileList (a dropped folder) load without the network', async () => {
    const fetched = async (path: string) => new Uint8Array(await (await fetch(`${server}${path}`)).arrayBuffer());
    const gguf = new File([await fetched('/gguf/kjv.gguf')], 'kjv.gguf');
    const list = new DataTransfer();
    for (const f of ['config.json', 'tokenizer.json', 'model.safetensors']) list.items.add(new File([await fetched(`/hf/bert/${f}`)], f));
    await reset();
    const a = await loadModel(gguf, { engine });
    expect(a.info).toMatchObject({ format: 'gguf', url: null, tokenizer: 'gguf' });
    a.dispose();
    const b = await loadModel(list.files, { engine });
    expect(b.model).toBeInstanceOf(Encoder);
    b.dispose();
    expect(await requests()).toEqual({});
  });

  it('cancel mid-download, a truncated body, 404 and an HTML page: errors naming the URL; nothing cached', async () => {
    const ctrl = new AbortController();
    let seen = 0;
    const cancelled = loadModel(`${server}/slow/char-gpt.safetensors`, {
      engine,
      signal: ctrl.signal,
      onProgress: () => {
        if (++seen === 2) ctrl.abort();
      },
    });
    await expect(cancelled).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toBeLessThan(10);

    const truncated = await loadModel(`${server}/truncated.gguf`, { engine }).catch((e: unknown) => e);
    expect(truncated).toBeInstanceOf(DownloadError);
    expect((truncated as Error).message).toContain(`${server}/truncated.gguf`);

    const missing = await loadModel(`${server}/missing.gguf`, { engine }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ name: 'DownloadError', status: 404 });
    expect((missing as Error).message).toContain('HTTP 404');

    const html = await loadModel(`${server}/html/model.gguf`, { engine }).catch((e: unknown) => e);
    expect((html as Error).message).toMatch(/HTML page/);

    const urls = (await listCached()).map((f) => f.url);
    for (const p of ['/slow/char-gpt.safetensors', '/truncated.gguf', '/missing.gguf', '/html/model.gguf'])
      expect(urls).not.toContain(`${server}${p}`);
  });
});

describe('createWorkerEngine / exposeEngine', () => {
  let w: WorkerEngine;
  beforeAll(() => {
    w = createWorkerEngine(new Worker(new URL('./app-worker.ts', import.meta.url), { type: 'module' }));
  });
  afterAll(() => w?.terminate());

  it('loads with progress events; cancel mid-download rejects at once and the next load runs; errors keep their class, URL and status', async () => {
    const err = await w.loadModel(`${server}/missing.gguf`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err).toMatchObject({ name: 'DownloadError', status: 404, url: `${server}/missing.gguf` });

    // Cancel mid-download: the promise rejects as the signal fires; the worker drops the download.
    const ctrl = new AbortController();
    let seen = 0;
    const cancelled = w.loadModel(`${server}/slow/char-gpt.safetensors`, {
      cache: false,
      signal: ctrl.signal,
      onProgress: () => {
        if (++seen === 2) ctrl.abort();
      },
    });
    await expect(cancelled).rejects.toMatchObject({ name: 'AbortError' });

    const events: LoadProgress[] = [];
    const { info } = await w.loadModel(`${server}/hf/kjv-llama/`, { onProgress: (p) => events.push(p) });
    expect(info).toMatchObject({ arch: 'llama', files: 2 });
    expect(w.info).toEqual(info);
    expect(events.some((e) => e.phase === 'download')).toBe(true);
    expect(events.some((e) => e.phase === 'build')).toBe(true);
    expect(await w.decode(await w.encode('In the beginning'))).toBe('In the beginning');
  });

  it('streams tokens; break and an AbortSignal stop the generation, and the next one runs', async () => {
    const all: GeneratedToken[] = [];
    for await (const t of w.generate('In the beginning', { maxNewTokens: 6, stopTokens: [] })) all.push(t);
    expect(all).toHaveLength(6);
    expect(all.every((t) => Number.isInteger(t.id) && typeof t.text === 'string')).toBe(true);

    const some: GeneratedToken[] = [];
    for await (const t of w.generate('In the beginning', { maxNewTokens: 200, stopTokens: [] })) {
      some.push(t);
      if (some.length === 2) break;
    }
    expect(some.map((t) => t.id)).toEqual(all.slice(0, 2).map((t) => t.id)); // greedy: the same start

    const ctrl = new AbortController();
    const got: GeneratedToken[] = [];
    for await (const t of w.generate('In the beginning', { maxNewTokens: 200, stopTokens: [], signal: ctrl.signal })) {
      got.push(t);
      if (got.length === 1) ctrl.abort();
    }
    expect(got.length).toBeLessThan(5);

    const again: GeneratedToken[] = [];
    for await (const t of w.generate([...(await w.encode('In the beginning'))], { maxNewTokens: 6, stopTokens: [] })) again.push(t);
    expect(again.map((t) => t.id)).toEqual(all.map((t) => t.id));
  });

  it('chat keeps the conversation in the worker; chat.completions.create streams OpenAI-shaped chunks; a custom method reports progress and transfers its result', async () => {
    const chat = w.chat({ system: 'You are brief.' });
    let reply = '';
    for await (const piece of chat.send('Who made the heaven?', { maxNewTokens: 4 })) reply += piece;
    expect(chat.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
    expect(chat.messages[2].content).toBe(reply);
    expect(chat.lastTurn?.text).toBe(reply);

    // OpenAI's shape, as an app written for WebLLM calls it.
    const messages = [{ role: 'user', content: 'Who made the heaven?' }];
    const chunks = [];
    for await (const c of await w.chat.completions.create({ messages, stream: true, max_tokens: 3, temperature: 0 })) chunks.push(c);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0].finish_reason)).toHaveLength(1);
    expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: expect.any(Number), prompt_tokens: expect.any(Number) });
    const streamed = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    const whole = await w.chat.completions.create({ messages, max_tokens: 3, temperature: 0 });
    expect(whole.object).toBe('chat.completion');
    expect(whole.choices[0].message.content).toBe(streamed);

    const progress: unknown[] = [];
    const r = await w.call<{ out: Float32Array; model: string }>('squares', 5, { onProgress: (p) => progress.push(p) });
    expect([...r.out]).toEqual([0, 1, 4, 9, 16]);
    expect(r.model).toBe('llama');
    expect(progress).toHaveLength(5);

    // transfer moves the argument's buffer; settleInWorker waits, after an abort, for the method's own answer.
    const bytes = new Uint8Array(1000);
    const ctrl = new AbortController();
    const counted: number[] = [];
    const answer = w.call<{ n: number; received: number }>('count', bytes, {
      transfer: [bytes.buffer],
      signal: ctrl.signal,
      settleInWorker: true,
      onProgress: (p) => {
        counted.push(p as number);
        if (counted.length === 3) ctrl.abort();
      },
    });
    expect(bytes.byteLength).toBe(0); // moved, not copied
    const got = await answer;
    expect(got.received).toBe(1000);
    expect(got.n).toBeGreaterThanOrEqual(3);
    expect(counted.at(-1)).toBe(got.n); // every event before the answer still arrived
    // Without it, the promise rejects as the signal fires.
    const ctrl2 = new AbortController();
    const early = w.call('count', new Uint8Array(1), { signal: ctrl2.signal, onProgress: () => ctrl2.abort() });
    await expect(early).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('bytes are transferred to the worker, not copied; an encoder embeds there', async () => {
    const bytes = new Uint8Array(await (await fetch(`${server}/gguf/kjv.gguf`)).arrayBuffer());
    const { info } = await w.loadModel(bytes);
    expect(info.format).toBe('gguf');
    expect(bytes.byteLength).toBe(0); // the buffer moved to the worker

    await w.loadModel(`${server}/hf/bert/`, { cache: false });
    const v = await w.embed(['a b c', 'c 9']);
    expect(v).toBeInstanceOf(Float32Array);
    expect(v.length).toBe(2 * 32);
    const generated = await (async () => {
      for await (const _ of w.generate('a', { maxNewTokens: 1 })) return null;
    })().catch((e: unknown) => e);
    expect(generated).toMatchObject({ name: 'UnsupportedError' });
  });
});

describe("exposeEngine's replace option", () => {
  it("a failed load frees the current model first by default; with replace: 'after-load' it keeps it", async () => {
    const bytes = async () => new Uint8Array(await (await fetch(`${server}/gguf/kjv.gguf`)).arrayBuffer());
    const first = createWorkerEngine(new Worker(new URL('./app-worker.ts', import.meta.url), { type: 'module' }));
    const keep = createWorkerEngine(new Worker(new URL('./app-worker-keep.ts', import.meta.url), { type: 'module' }));
    try {
      for (const w of [first, keep]) {
        await w.loadModel(await bytes());
        const ids = await w.encode('In the beginning');
        expect(ids.length).toBeGreaterThan(0);
        await expect(w.loadModel(`${server}/missing.gguf`)).rejects.toMatchObject({ name: 'DownloadError', status: 404 });
        if (w === keep)
          expect(await w.encode('In the beginning')).toEqual(ids); // still loaded
        else await expect(w.encode('In the beginning')).rejects.toThrow(/no model is loaded/);
      }
    } finally {
      first.terminate();
      keep.terminate();
    }
  });
});
