// The engine in a Web Worker, so model loading and generation never block the page. In the worker:
//   import { exposeEngine } from 'webgpu-nlp';  exposeEngine(self);
// In the page:
//   const engine = createWorkerEngine(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' }));
//   const { info } = await engine.loadModel(url, { onProgress });
//   for await (const { text } of engine.generate('Once upon a time', { maxNewTokens: 40 })) out.append(text);
// Requests carry an id; the worker answers with progress events, stream items, one result or one error
// (its class, name and message kept). Tokens stream as an async iterator whose return() (a `break`)
// cancels the generation, as does an AbortSignal. Bytes sent to the worker and embeddings sent back are
// transferred, not copied. Requests that use the model run one at a time, in arrival order; a new load
// stops a running generation first.
import * as errors from '../errors';
import type { GPUContext } from '../gpu/engine';
import type { EmbedOptions } from '../models/encoder';
import { Encoder } from '../models/encoder';
import { ChatCompletions, type ChatCompletion, type ChatCompletionChunk, type ChatCompletionRequest } from '../models/chat';
import type { ChatMessage } from '../models/text-tokenizer';
import { TextTokenizer } from '../models/text-tokenizer';
import type { GenerateOptions } from '../models/decoder';
import { type CacheOption, type CachedFile, DownloadError, deleteCached, listCached } from './download';
import { type AnyTokenizer, type LoadOptions, type LoadProgress, type LoadedModel, type ModelInfo, loadModel } from './load';
import type { ModelSource, NamedBytes } from './sources';

/** One generated token: its id and the text it adds (empty while a multi-byte character is incomplete). */
export interface GeneratedToken {
  id: number;
  text: string;
}

export type WorkerGenerateOptions = Omit<GenerateOptions, 'signal'> & {
  signal?: AbortSignal;
  /** A string prompt is wrapped in the chat template as one user turn (default false: plain continuation). */
  chat?: boolean;
};

export interface WorkerLoadOptions extends Omit<LoadOptions, 'engine' | 'signal' | 'onProgress'> {
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
  /** Move a Uint8Array / ArrayBuffer source to the worker (default true: no copy; the page's buffer is emptied). */
  transfer?: boolean;
}

/** What the worker uses of model.chat()'s session (models/chat.ts). */
interface ChatSessionLike {
  readonly messages: ChatMessage[];
  lastTurn: unknown;
  send(input: string | readonly ChatMessage[], options: object): AsyncGenerator<string, unknown>;
  clear(): void;
}

interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** The library class (ShapeError, DownloadError, …) or 'DOMException'. */
  cls: string;
  props: Record<string, string | number | boolean | null>;
}

type Request = { t: 'call'; id: number; op: string; args: unknown } | { t: 'cancel'; id: number };
type Reply =
  | { t: 'progress'; id: number; data: unknown }
  | { t: 'item'; id: number; data: unknown }
  | { t: 'done'; id: number; data: unknown }
  | { t: 'error'; id: number; error: SerializedError };

interface Port {
  postMessage(m: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', fn: (e: MessageEvent) => void): void;
  removeEventListener?(type: 'message', fn: (e: MessageEvent) => void): void;
}

const ERROR_CLASSES: Record<string, new (message: string) => Error> = {
  ...(Object.fromEntries(Object.entries(errors).filter(([, v]) => typeof v === 'function')) as Record<string, new (m: string) => Error>),
  DownloadError: DownloadError as unknown as new (m: string) => Error,
  TypeError,
  RangeError,
  SyntaxError,
};

export function serializeError(e: unknown): SerializedError {
  const err =
    e instanceof Error || (typeof DOMException !== 'undefined' && e instanceof DOMException) ? (e as Error) : new Error(String(e));
  const props: SerializedError['props'] = {};
  for (const [k, v] of Object.entries(err)) if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) props[k] = v as string;
  const cls = typeof DOMException !== 'undefined' && err instanceof DOMException ? 'DOMException' : err.constructor?.name || 'Error';
  return { name: err.name, message: err.message, stack: err.stack, cls, props };
}

/** The error again, of its class where the library or the language defines it (else an Error with its name). */
export function deserializeError(s: SerializedError): Error {
  if (s.cls === 'DOMException' && typeof DOMException !== 'undefined') return new DOMException(s.message, s.name);
  const C = ERROR_CLASSES[s.cls];
  const err: Error = C ? Object.create(C.prototype) : new Error(s.message);
  Object.assign(err, s.props);
  Object.defineProperty(err, 'message', { value: s.message, writable: true, configurable: true });
  Object.defineProperty(err, 'name', { value: s.name, writable: true, configurable: true });
  if (s.stack) Object.defineProperty(err, 'stack', { value: s.stack, writable: true, configurable: true });
  return err;
}

const wholeBuffer = (b: Uint8Array) => b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer;

// ---------------------------------------------------------------------------------------------------
// The page's side.

/** A stream of items from the worker: an async iterator whose return() cancels the request. */
class Stream<T> implements AsyncIterableIterator<T> {
  private items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | null = null;
  private failed: ((e: Error) => void) | null = null;
  private ended = false;
  private error: Error | null = null;
  constructor(private readonly cancel: () => void) {}
  push(item: T) {
    if (this.ended) return; // cancelled: what was in flight is dropped
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = this.failed = null;
      w({ value: item, done: false });
    } else this.items.push(item);
  }
  end(error?: Error) {
    if (this.ended && !this.waiting) return;
    this.ended = true;
    this.error = error ?? null;
    if (this.waiting) {
      const [w, f] = [this.waiting, this.failed!];
      this.waiting = this.failed = null;
      if (error) f(error);
      else w({ value: undefined, done: true });
    }
  }
  next(): Promise<IteratorResult<T>> {
    if (this.items.length) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.ended) {
      const e = this.error;
      this.error = null;
      return e ? Promise.reject(e) : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
    });
  }
  return(): Promise<IteratorResult<T>> {
    if (!this.ended) this.cancel();
    this.ended = true;
    this.items = [];
    return Promise.resolve({ value: undefined, done: true });
  }
  [Symbol.asyncIterator]() {
    return this;
  }
}

/** A chat turn's outcome as model.chat()'s ChatSession reports it (text, finishReason, prefilledTokens, …). */
export type WorkerChatTurn = Record<string, unknown> & { text: string; finishReason: string; prefilledTokens: number };

/** model.chat() in the worker: the session (messages, KV cache) lives there; replies stream as text. */
export interface WorkerChat {
  /** The conversation so far, as of the last finished turn (the system message first, when given). */
  readonly messages: readonly ChatMessage[];
  /** The last turn's outcome, or null before the first. */
  readonly lastTurn: WorkerChatTurn | null;
  /** Adds a user turn (or messages) and streams the reply's text; `break` or the signal stops it (the reply so far is kept). */
  send(content: string | readonly ChatMessage[], options?: WorkerChatSendOptions): AsyncIterableIterator<string>;
  /** Forgets the turns (the system message stays). */
  clear(): Promise<void>;
}

export type WorkerChatSendOptions = Omit<GenerateOptions, 'signal' | 'stopToken'> & { signal?: AbortSignal; stop?: readonly string[] };

/** chat.completions in the worker: streamed chunks cross as events; `signal` stops the generation. */
export interface WorkerCompletions {
  create(
    request: ChatCompletionRequest & { stream: true },
    options?: { signal?: AbortSignal },
  ): Promise<AsyncIterableIterator<ChatCompletionChunk>>;
  create(request: ChatCompletionRequest & { stream?: false | null }, options?: { signal?: AbortSignal }): Promise<ChatCompletion>;
}

export interface CallOptions {
  signal?: AbortSignal;
  onProgress?: (p: unknown) => void;
  /** Buffers in `args` to move to the worker instead of copying them. */
  transfer?: Transferable[];
  /** On abort, wait for the method's answer (its result or error once it stopped) rather than rejecting at once. */
  settleInWorker?: boolean;
}

export interface WorkerEngine {
  /** Loads a model in the worker (replacing the one it had). */
  loadModel(source: ModelSource, options?: WorkerLoadOptions): Promise<{ info: ModelInfo }>;
  /** The loaded model's info, or null. */
  readonly info: ModelInfo | null;
  /** Streams the continuation of a prompt (text or token ids); `break` or the signal ends it. */
  generate(prompt: string | readonly number[], options?: WorkerGenerateOptions): AsyncIterableIterator<GeneratedToken>;
  /** Encoders: one vector per input (texts or token ids), [n × hidden] row-major, transferred. */
  embed(
    input: readonly string[] | readonly (readonly number[])[],
    options?: EmbedOptions & { signal?: AbortSignal },
  ): Promise<Float32Array>;
  encode(text: string): Promise<number[]>;
  decode(ids: readonly number[]): Promise<string>;
  /**
   * A conversation (model.chat() in the worker) that keeps its KV cache between turns; and
   * `chat.completions.create(request)`, OpenAI's shape (chunks with choices[0].delta.content,
   * finish_reason, usage), as WebLLM's engine has it.
   */
  chat: ((options?: { system?: string; contextPolicy?: 'error' | 'drop-oldest' }) => WorkerChat) & { completions: WorkerCompletions };
  /**
   * A method the worker added with exposeEngine(self, { methods }). `transfer` moves buffers in `args`
   * to the worker; with `settleInWorker`, an abort asks the worker to stop and the promise waits for
   * the method's own answer (what it did before it stopped) instead of rejecting at once.
   */
  call<R = unknown>(method: string, args?: unknown, options?: CallOptions): Promise<R>;
  listCached(options?: { cache?: CacheOption }): Promise<CachedFile[]>;
  deleteCached(url?: string, options?: { cache?: CacheOption }): Promise<number>;
  /** Frees the model in the worker. */
  unload(): Promise<void>;
  /** Stops listening and terminates the worker (when it is a Worker). */
  terminate(): void;
}

/** The page's proxy of an engine a worker exposes with exposeEngine(self). */
export function createWorkerEngine(worker: Worker | Port): WorkerEngine {
  const port = worker as Port;
  let next = 1;
  const pending = new Map<
    number,
    { progress?: (d: unknown) => void; item?: (d: unknown) => void; done: (d: unknown) => void; fail: (e: Error) => void }
  >();
  const onMessage = (e: MessageEvent) => {
    const m = e.data as Reply;
    const p = pending.get(m?.id);
    if (!p) return;
    if (m.t === 'progress') p.progress?.(m.data);
    else if (m.t === 'item') p.item?.(m.data);
    else {
      pending.delete(m.id);
      if (m.t === 'done') p.done(m.data);
      else p.fail(deserializeError(m.error));
    }
  };
  port.addEventListener('message', onMessage);
  (port as { start?: () => void }).start?.(); // a MessagePort needs start() with addEventListener
  (port as Worker).addEventListener?.('error', (e: ErrorEvent) => {
    const err = new Error(`the engine's worker failed: ${e.message ?? 'a script error (see the console)'}`);
    for (const p of pending.values()) p.fail(err);
    pending.clear();
  });

  const send = (op: string, args: unknown, transfer: Transferable[] = []) => {
    const id = next++;
    port.postMessage({ t: 'call', id, op, args } satisfies Request, transfer);
    return id;
  };
  const cancel = (id: number) => port.postMessage({ t: 'cancel', id } satisfies Request);

  function request<R>(op: string, args: unknown, o: CallOptions = {}): Promise<R> {
    if (o.signal?.aborted) return Promise.reject(o.signal.reason ?? new DOMException('cancelled', 'AbortError'));
    return new Promise<R>((resolve, reject) => {
      const id = send(op, args, o.transfer);
      // The promise rejects at once, as fetch's does (unless settleInWorker); the worker stops the
      // request at its next check.
      const onAbort = () => {
        cancel(id);
        if (o.settleInWorker) return;
        pending.delete(id);
        reject(o.signal?.reason ?? new DOMException('cancelled', 'AbortError'));
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      const finish = () => o.signal?.removeEventListener('abort', onAbort);
      pending.set(id, {
        progress: o.onProgress,
        done: (d) => {
          finish();
          resolve(d as R);
        },
        fail: (e) => {
          finish();
          reject(e);
        },
      });
    });
  }

  function stream<T = GeneratedToken>(op: string, args: unknown, signal?: AbortSignal, onDone?: (data: unknown) => void): Stream<T> {
    let id = 0;
    // Cancelling keeps the request pending: its final answer (a chat turn's outcome) still arrives.
    const s = new Stream<T>(() => cancel(id));
    if (signal?.aborted) {
      s.end();
      return s;
    }
    id = send(op, args);
    const onAbort = () => {
      cancel(id);
      s.end();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    pending.set(id, {
      item: (d) => s.push(d as T),
      done: (d) => {
        signal?.removeEventListener('abort', onAbort);
        onDone?.(d);
        s.end();
      },
      fail: (e) => {
        signal?.removeEventListener('abort', onAbort);
        s.end(e);
      },
    });
    return s;
  }

  const split = <O extends { signal?: AbortSignal }>(o: O | undefined) => {
    const { signal, ...rest } = o ?? ({} as O);
    return { signal, rest };
  };

  const engine: WorkerEngine & { info: ModelInfo | null } = {
    info: null,
    async loadModel(source, options = {}) {
      const { signal, onProgress, transfer: move = true, ...rest } = options;
      const transfer: Transferable[] = [];
      let src: unknown = source;
      const take = (b: Uint8Array) => {
        if (move && wholeBuffer(b)) transfer.push(b.buffer as ArrayBuffer);
      };
      if (source instanceof URL) src = source.href;
      else if (typeof source === 'string') src = new URL(source, typeof location !== 'undefined' ? location.href : undefined).href;
      else if (source instanceof ArrayBuffer) {
        if (move) transfer.push(source);
      } else if (source instanceof Uint8Array) take(source);
      else if (Array.isArray(source) || (typeof FileList !== 'undefined' && source instanceof FileList)) {
        // Files keep the path of a dropped folder (webkitRelativePath) that cloning would lose.
        src = Array.from(source as ArrayLike<File | NamedBytes>).map((f) => {
          if (f instanceof Uint8Array || !(typeof Blob !== 'undefined' && f instanceof Blob)) {
            take((f as NamedBytes).bytes);
            return f;
          }
          return { name: (f as File & { webkitRelativePath?: string }).webkitRelativePath || (f as File).name, blob: f };
        });
      } else if (typeof source === 'object' && source && 'bytes' in source) take((source as NamedBytes).bytes);
      const r = await request<{ info: ModelInfo }>(
        'load',
        { source: src, options: rest },
        { signal, onProgress: onProgress as (p: unknown) => void, transfer },
      );
      engine.info = r.info;
      return r;
    },
    generate(prompt, options) {
      const { signal, rest } = split(options);
      return stream('generate', { prompt: typeof prompt === 'string' ? prompt : [...prompt], options: rest }, signal);
    },
    async embed(input, options) {
      const { signal, rest } = split(options);
      return request<Float32Array>('embed', { input, options: rest }, { signal });
    },
    encode: (text) => request('encode', text),
    decode: (ids) => request('decode', [...ids]),
    chat: Object.assign(
      (options: { system?: string; contextPolicy?: 'error' | 'drop-oldest' } = {}): WorkerChat => {
        const sid = next++;
        const opened = request('chat-open', { sid, options });
        opened.catch(() => undefined); // reported by the first send()
        const chat: WorkerChat & { messages: ChatMessage[]; lastTurn: WorkerChatTurn | null } = {
          messages: options.system ? [{ role: 'system', content: options.system }] : [],
          lastTurn: null,
          send(content, o) {
            const { signal, rest } = split(o);
            const inner = stream<string>('chat-send', { sid, input: content, options: rest }, signal, (d) => {
              const r = d as { turn: WorkerChatTurn; messages: ChatMessage[] };
              chat.lastTurn = r.turn;
              chat.messages = r.messages;
            });
            return inner;
          },
          clear: async () => {
            const r = await request<{ messages: ChatMessage[] }>('chat-clear', { sid });
            chat.messages = r.messages;
            chat.lastTurn = null;
          },
        };
        return chat;
      },
      {
        completions: {
          create: (async (req: ChatCompletionRequest, o: { signal?: AbortSignal } = {}) => {
            if (req?.stream) {
              // The stream starts once the worker accepts the request (a bad one rejects here).
              const chunks = stream<ChatCompletionChunk>('completions', { request: req }, o.signal);
              const first = await chunks.next();
              const rest = chunks;
              let pending: IteratorResult<ChatCompletionChunk> | null = first;
              const it: AsyncIterableIterator<ChatCompletionChunk> = {
                next: () => {
                  if (pending) {
                    const r = pending;
                    pending = null;
                    return Promise.resolve(r);
                  }
                  return rest.next();
                },
                return: () => rest.return(),
                [Symbol.asyncIterator]() {
                  return it;
                },
              };
              return it;
            }
            return request<ChatCompletion>('completions', { request: req }, { signal: o.signal });
          }) as WorkerCompletions['create'],
        },
      },
    ),
    call: (method, args, o = {}) => request('custom', { method, args }, o),
    listCached: (options = {}) => request('list-cached', options),
    deleteCached: (url, options = {}) => request('delete-cached', { url, options }),
    async unload() {
      await request('unload', null);
      engine.info = null;
    },
    terminate() {
      port.removeEventListener?.('message', onMessage);
      (worker as Worker).terminate?.();
      for (const p of pending.values()) p.fail(new errors.DisposedError('createWorkerEngine: the worker was terminated'));
      pending.clear();
    },
  };
  return engine;
}

// ---------------------------------------------------------------------------------------------------
// The worker's side.

/** What a custom method gets besides its arguments. */
export interface MethodContext {
  /** The loaded model, or null. */
  loaded: LoadedModel | null;
  /** Set when the page cancels the call (or a new load arrives). */
  signal: AbortSignal;
  progress(data: unknown): void;
  /** Buffers to move with the result instead of copying them. */
  transfer(list: Transferable[]): void;
  /** Loads a model as loadModel does, replacing the current one. */
  load(source: ModelSource, options?: Omit<LoadOptions, 'engine' | 'signal'>): Promise<LoadedModel>;
}

export interface ExposeOptions {
  /** Methods the page calls with engine.call(name, args). */
  methods?: Record<string, (args: unknown, ctx: MethodContext) => unknown>;
  /** The engine models load into (default: one Engine, created on the first load). */
  engine?: () => Promise<GPUContext>;
  /**
   * When a new model replaces the current one: 'before-load' (default) frees the current model first,
   * so only one is ever held; 'after-load' frees it once the new one has loaded, so a failed load (a
   * wrong URL, Stop) keeps it, for two models' memory while loading.
   */
  replace?: 'before-load' | 'after-load';
}

/** Serves the page's createWorkerEngine() from inside a worker: `exposeEngine(self)`. */
export function exposeEngine(self: Port | typeof globalThis, options: ExposeOptions = {}): void {
  const scope = self as Port;
  let engine: GPUContext | null = null;
  let loaded: LoadedModel | null = null;
  /** model.chat() sessions by the page's id; a new model ends them. */
  const sessions = new Map<number, ChatSessionLike>();
  /** chat.completions on the loaded model (stateless per request; its encoder reuses the KV cache). */
  let completions: { model: object; api: ChatCompletions } | null = null;
  const running = new Map<number, AbortController>();
  const modelOps = new Set<number>();
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };
  const post = (m: Reply, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

  const decoder = () => {
    if (!loaded) throw new errors.ArgumentError('engine: no model is loaded (call loadModel first)');
    if (loaded.model instanceof Encoder)
      throw new errors.UnsupportedError(`engine: ${loaded.info.arch} is an encoder: use embed(), not generate()`);
    return { model: loaded.model, tokenizer: loaded.tokenizer };
  };
  const textTokenizer = (what: string): TextTokenizer => {
    const t = loaded?.tokenizer;
    if (!(t instanceof TextTokenizer))
      throw new errors.UnsupportedError(`engine: ${what} needs a tokenizer with a chat template; this model has none`);
    return t;
  };
  const needTokenizer = (): AnyTokenizer => {
    if (!loaded) throw new errors.ArgumentError('engine: no model is loaded (call loadModel first)');
    if (!loaded.tokenizer) throw new errors.UnsupportedError(`engine: ${loaded.info.name} has no tokenizer: pass token ids`);
    return loaded.tokenizer;
  };

  async function load(source: ModelSource, o: Omit<LoadOptions, 'engine'>): Promise<LoadedModel> {
    engine ??= options.engine ? await options.engine() : null;
    const free = async () => {
      sessions.clear();
      loaded?.dispose();
      loaded = null;
      await new Promise((r) => setTimeout(r, 0)); // the old model's plans are released in a microtask
    };
    if (options.replace !== 'after-load') await free();
    const result = await loadModel(source, { ...o, ...(engine ? { engine } : {}) });
    if (!engine) engine = result.engine; // the first load's engine serves the next ones
    await free();
    loaded = { ...result, dispose: () => result.model.dispose() };
    return loaded;
  }

  /** Streams ids as { id, text }, the text decoded incrementally. */
  async function streamTokens(id: number, ids: AsyncIterable<number>, tok: AnyTokenizer | null): Promise<void> {
    const next =
      tok instanceof TextTokenizer
        ? tok.streamDecoder({ skipSpecialTokens: true })
        : (() => {
            const all: number[] = [];
            let shown = '';
            return (t: number) => {
              if (!tok) return '';
              all.push(t);
              const text = tok.decode(all);
              if (text.endsWith('\uFFFD')) return '';
              const added = text.slice(shown.length);
              shown = text;
              return added;
            };
          })();
    for await (const t of ids) post({ t: 'item', id, data: { id: t, text: next(t) } satisfies GeneratedToken });
  }

  async function handle(id: number, op: string, args: unknown, signal: AbortSignal): Promise<{ data: unknown; transfer?: Transferable[] }> {
    switch (op) {
      case 'load': {
        const { source, options: o } = args as { source: unknown; options: Omit<LoadOptions, 'engine'> };
        let src = source as ModelSource;
        if (Array.isArray(source))
          src = await Promise.all(
            source.map(async (f: NamedBytes | { name: string; blob: Blob }) =>
              'blob' in f ? { name: f.name, bytes: new Uint8Array(await f.blob.arrayBuffer()) } : f,
            ),
          );
        const r = await load(src, { ...o, signal, onProgress: (p) => post({ t: 'progress', id, data: p }) });
        return { data: { info: r.info } };
      }
      case 'generate': {
        const { prompt, options: o } = args as { prompt: string | number[]; options: WorkerGenerateOptions };
        const { model, tokenizer } = decoder();
        let ids: number[];
        if (typeof prompt !== 'string') ids = prompt;
        else if (o.chat) ids = textTokenizer('chat').encodeChat([{ role: 'user', content: prompt }]);
        else ids = needTokenizer().encode(prompt);
        const stops = o.stopTokens ?? (o.chat ? textTokenizer('chat').stopTokens : undefined);
        const { chat: _chat, ...gen } = o;
        await streamTokens(id, model.generate(ids, { ...gen, ...(stops ? { stopTokens: stops } : {}), signal }), tokenizer);
        return { data: { stats: model.lastGeneration } };
      }
      case 'chat-open': {
        const { sid, options: o } = args as { sid: number; options: { system?: string; contextPolicy?: 'error' | 'drop-oldest' } };
        const { model } = decoder();
        const open = (model as unknown as { chat?: (o: object) => ChatSessionLike }).chat;
        if (typeof open !== 'function') throw new errors.UnsupportedError(`engine: ${loaded!.info.arch} has no chat()`);
        textTokenizer('chat');
        sessions.set(sid, open.call(model, o));
        return { data: null };
      }
      case 'chat-send': {
        const { sid, input, options: o } = args as { sid: number; input: string | ChatMessage[]; options: Record<string, unknown> };
        const session = sessions.get(sid);
        if (!session)
          throw new errors.ArgumentError('engine: this chat belongs to a model that was replaced or unloaded; start a new chat()');
        const it = session.send(input, { ...o, signal });
        for (let r = await it.next(); !r.done; r = await it.next()) post({ t: 'item', id, data: r.value });
        return { data: { turn: session.lastTurn, messages: session.messages } };
      }
      case 'completions': {
        const { request } = args as { request: ChatCompletionRequest };
        const { model } = decoder();
        const tok = textTokenizer('chat.completions');
        if (!completions || completions.model !== model) completions = { model, api: new ChatCompletions(model, tok, loaded!.info.name) };
        if (!request?.stream) return { data: await completions.api.create({ ...request, stream: false }, { signal }) };
        const chunks = await completions.api.create({ ...request, stream: true }, { signal });
        for await (const c of chunks) post({ t: 'item', id, data: c });
        return { data: null };
      }
      case 'chat-clear': {
        const session = sessions.get((args as { sid: number }).sid);
        session?.clear();
        return { data: { messages: session?.messages ?? [] } };
      }
      case 'embed': {
        const { input, options: o } = args as { input: (string | number[])[]; options: EmbedOptions };
        if (!loaded) throw new errors.ArgumentError('engine: no model is loaded (call loadModel first)');
        if (!(loaded.model instanceof Encoder))
          throw new errors.UnsupportedError(`engine: ${loaded.info.arch} is a decoder: embed() needs an encoder`);
        const batch = input.map((x) => (typeof x === 'string' ? needTokenizer().encode(x) : x));
        const out = await loaded.model.embed(batch, o);
        return { data: out, transfer: [out.buffer as ArrayBuffer] };
      }
      case 'encode':
        return { data: needTokenizer().encode(args as string) };
      case 'decode':
        return { data: needTokenizer().decode(args as number[]) };
      case 'list-cached':
        return { data: await listCached(args as { cache?: CacheOption }) };
      case 'delete-cached': {
        const { url, options: o } = args as { url?: string; options: { cache?: CacheOption } };
        return { data: await deleteCached(url, o) };
      }
      case 'unload':
        sessions.clear();
        loaded?.dispose();
        loaded = null;
        return { data: null };
      case 'custom': {
        const { method, args: a } = args as { method: string; args: unknown };
        const fn = options.methods?.[method];
        if (!fn)
          throw new errors.ArgumentError(
            `engine: the worker has no method '${method}' (it has ${Object.keys(options.methods ?? {}).join(', ') || 'none'})`,
          );
        const transfer: Transferable[] = [];
        const data = await fn(a, {
          loaded,
          signal,
          progress: (d) => post({ t: 'progress', id, data: d }),
          transfer: (l) => transfer.push(...l),
          load: (source, o = {}) => load(source, { ...o, signal, onProgress: (p) => post({ t: 'progress', id, data: p }) }),
        });
        return { data, transfer };
      }
      default:
        throw new errors.ArgumentError(`engine: unknown request '${op}'`);
    }
  }

  /** Requests that touch the model wait their turn; the cache and tokenizer ones answer at once. */
  const QUEUED = new Set(['load', 'generate', 'chat-open', 'chat-send', 'chat-clear', 'completions', 'embed', 'unload', 'custom']);

  scope.addEventListener('message', (e: MessageEvent) => {
    const m = e.data as Request;
    if (!m || typeof m !== 'object' || typeof m.id !== 'number') return;
    if (m.t === 'cancel') {
      running.get(m.id)?.abort(new DOMException('cancelled by the page', 'AbortError'));
      return;
    }
    if (m.t !== 'call') return;
    const ctrl = new AbortController();
    running.set(m.id, ctrl);
    if (m.op === 'load' || m.op === 'unload') {
      // Anything that replaces the model ends what runs on it first.
      for (const other of modelOps) running.get(other)?.abort(new DOMException('a new model is loading', 'AbortError'));
    }
    const run = async () => {
      if (ctrl.signal.aborted && m.op === 'load') throw ctrl.signal.reason;
      return handle(m.id, m.op, m.args, ctrl.signal);
    };
    if (m.op !== 'load' && QUEUED.has(m.op)) modelOps.add(m.id);
    (QUEUED.has(m.op) ? exclusive(run) : run())
      .then(
        (r) => post({ t: 'done', id: m.id, data: r.data }, r.transfer ?? []),
        (err) => post({ t: 'error', id: m.id, error: serializeError(err) }),
      )
      .finally(() => {
        running.delete(m.id);
        modelOps.delete(m.id);
      });
  });
}
