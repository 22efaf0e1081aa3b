// Downloads for loadModel: fetch with progress and cancel, checked against Content-Length (a short body
// is an error, never a cached file), an HTML page in place of a model named as such, and a cache of whole
// files — Cache Storage in browsers, a directory in Node — so a second load makes no request.
import { WebGPUNLPError } from '../errors';

/** A failed download: `url` and, when the server answered, its HTTP `status`. */
export class DownloadError extends WebGPUNLPError {
  override name = 'DownloadError';
  constructor(
    message: string,
    readonly url: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * Where downloaded files are kept: `false` (nowhere), 'browser' (Cache Storage, the default where it
 * exists) or `{ dir }` (a directory, for Node).
 */
export type CacheOption = false | 'browser' | { dir: string };

/** One file in the cache. */
export interface CachedFile {
  url: string;
  bytes: number;
  /** The server's ETag when it sent one. */
  etag: string | null;
  /** Date.now() when it was stored. */
  storedAt: number;
}

/** The Cache Storage name (the GPT demo's cache before this module; kept so its files stay). */
export const CACHE_NAME = 'webgpu-nlp-models';

interface Meta {
  url: string;
  bytes: number;
  etag: string | null;
  storedAt: number;
}

/** A store of whole files by URL. get() drops an entry whose size does not match its record. */
export interface FileStore {
  get(url: string): Promise<{ bytes: Uint8Array; meta: Meta } | null>;
  meta(url: string): Promise<Meta | null>;
  put(url: string, bytes: Uint8Array, etag: string | null): Promise<void>;
  list(): Promise<CachedFile[]>;
  delete(url: string): Promise<boolean>;
}

const toMeta = (url: string, h: Headers): Meta => ({
  url,
  bytes: Number(h.get('x-webgpu-nlp-bytes') ?? h.get('content-length') ?? -1),
  etag: h.get('x-webgpu-nlp-etag'),
  storedAt: Number(h.get('x-webgpu-nlp-stored') ?? 0),
});

class BrowserStore implements FileStore {
  private cache(): Promise<Cache> {
    if (typeof caches === 'undefined')
      throw new DownloadError("loadModel: cache 'browser' needs Cache Storage (a secure context: https or localhost)", '');
    return caches.open(CACHE_NAME);
  }
  async meta(url: string): Promise<Meta | null> {
    const hit = await (await this.cache()).match(url);
    return hit ? toMeta(url, hit.headers) : null;
  }
  async get(url: string) {
    const c = await this.cache();
    const hit = await c.match(url);
    if (!hit) return null;
    const meta = toMeta(url, hit.headers);
    const bytes = new Uint8Array(await hit.arrayBuffer());
    if (bytes.length !== meta.bytes) {
      await c.delete(url); // an entry that is not the whole file is never used
      return null;
    }
    return { bytes, meta };
  }
  async put(url: string, bytes: Uint8Array, etag: string | null) {
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-length': String(bytes.length),
      'x-webgpu-nlp-bytes': String(bytes.length),
      'x-webgpu-nlp-stored': String(Date.now()),
    };
    if (etag) headers['x-webgpu-nlp-etag'] = etag;
    const body = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
    await (await this.cache()).put(url, new Response(body as ArrayBuffer, { headers }));
  }
  async list() {
    const c = await this.cache();
    const out: CachedFile[] = [];
    for (const req of await c.keys()) {
      const hit = await c.match(req);
      if (hit) out.push(toMeta(req.url, hit.headers));
    }
    return out;
  }
  async delete(url: string) {
    return (await this.cache()).delete(url);
  }
}

/** The part of Node's fs/promises this cache uses, typed here so the library's types need no @types/node. */
interface NodeFs {
  readFile(path: string, encoding: 'utf8'): Promise<string>;
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: string | Uint8Array): Promise<void>;
  mkdir(path: string, options: { recursive: true }): Promise<unknown>;
  readdir(path: string): Promise<string[]>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { force: true }): Promise<void>;
  stat(path: string): Promise<{ size: number }>;
}
// A specifier in a variable: bundlers for the browser leave it alone, Node resolves it.
const FS_MODULE = 'node:fs/promises';
const nodeFs = (): Promise<NodeFs> => import(/* @vite-ignore */ FS_MODULE) as Promise<NodeFs>;

async function sha256(text: string): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Files in a directory: <sha256(url)>.bin and its record <sha256(url)>.json, written after the file is whole. */
class DirStore implements FileStore {
  constructor(private readonly dir: string) {}
  private async paths(url: string) {
    const h = await sha256(url);
    return { bin: `${this.dir}/${h}.bin`, json: `${this.dir}/${h}.json` };
  }
  private async readMeta(path: string): Promise<Meta | null> {
    const fs = await nodeFs();
    try {
      return JSON.parse(await fs.readFile(path, 'utf8')) as Meta;
    } catch {
      return null;
    }
  }
  async meta(url: string) {
    return this.readMeta((await this.paths(url)).json);
  }
  async get(url: string) {
    const fs = await nodeFs();
    const p = await this.paths(url);
    const meta = await this.readMeta(p.json);
    if (!meta) return null;
    const size = await fs.stat(p.bin).then(
      (s) => s.size,
      () => -1,
    );
    if (size !== meta.bytes || meta.url !== url) {
      await this.delete(url);
      return null;
    }
    return { bytes: new Uint8Array(await fs.readFile(p.bin)), meta };
  }
  async put(url: string, bytes: Uint8Array, etag: string | null) {
    const fs = await nodeFs();
    await fs.mkdir(this.dir, { recursive: true });
    const p = await this.paths(url);
    const part = `${p.bin}.part-${Math.random().toString(36).slice(2)}`;
    try {
      await fs.writeFile(part, bytes);
      await fs.rename(part, p.bin);
    } catch (e) {
      await fs.rm(part, { force: true });
      throw e;
    }
    const meta: Meta = { url, bytes: bytes.length, etag, storedAt: Date.now() };
    await fs.writeFile(p.json, JSON.stringify(meta));
  }
  async list() {
    const fs = await nodeFs();
    const names = await fs.readdir(this.dir).catch(() => [] as string[]);
    const out: CachedFile[] = [];
    for (const n of names.filter((n) => n.endsWith('.json'))) {
      const m = await this.readMeta(`${this.dir}/${n}`);
      if (m) out.push(m);
    }
    return out;
  }
  async delete(url: string) {
    const fs = await nodeFs();
    const p = await this.paths(url);
    const had = (await this.readMeta(p.json)) !== null;
    await fs.rm(p.json, { force: true });
    await fs.rm(p.bin, { force: true });
    return had;
  }
}

/** The store for a cache option; 'browser' by default where Cache Storage exists, else none. */
export function fileStore(cache: CacheOption | undefined): FileStore | null {
  const c = cache === undefined ? (typeof caches !== 'undefined' ? 'browser' : false) : cache;
  if (c === false) return null;
  if (c === 'browser') return new BrowserStore();
  if (typeof c === 'object' && c && typeof c.dir === 'string' && c.dir) return new DirStore(c.dir.replace(/\/+$/, ''));
  throw new DownloadError(`loadModel: cache must be false, 'browser' or { dir: string }; got ${JSON.stringify(cache)}`, '');
}

/** A folder's record of which optional files it lacks (sources.ts), kept beside its files. */
export const MANIFEST_SUFFIX = '.webgpu-nlp-manifest.json';

/** The files loadModel downloaded and kept (`cache`: as loadModel's option). */
export async function listCached(options: { cache?: CacheOption } = {}): Promise<CachedFile[]> {
  const all = (await fileStore(options.cache)?.list()) ?? [];
  return all.filter((f) => !f.url.endsWith(MANIFEST_SUFFIX));
}

/**
 * Deletes cached files: every one (no `url`), the one at `url`, or every file under `url` when it ends
 * in '/' (a Hugging Face folder). Returns how many were deleted.
 */
export async function deleteCached(url?: string, options: { cache?: CacheOption } = {}): Promise<number> {
  const store = fileStore(options.cache);
  if (!store) return 0;
  let n = 0;
  for (const f of await store.list()) {
    if (url === undefined || f.url === url || (url.endsWith('/') && f.url.startsWith(url)))
      n += (await store.delete(f.url)) && !f.url.endsWith(MANIFEST_SUFFIX) ? 1 : 0;
  }
  return n;
}

/**
 * One file by URL as loadModel fetches it: from the cache when it holds the whole file, else
 * downloaded with progress (cancelled by `signal`), checked against Content-Length, then cached.
 * For files loadModel does not read itself (an adapter, a corpus).
 */
export async function downloadFile(
  url: string,
  options: { signal?: AbortSignal; cache?: CacheOption; onProgress?: (p: FileProgress) => void; revalidate?: boolean } = {},
): Promise<Uint8Array> {
  const { cache, ...rest } = options;
  return download(url, { ...rest, store: fileStore(cache) });
}

/** Progress of one file: bytes so far, of `total` (0 while unknown). */
export interface FileProgress {
  url: string;
  loaded: number;
  total: number;
  fromCache: boolean;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  store?: FileStore | null;
  onProgress?: (p: FileProgress) => void;
  /** 404 answers null instead of an error (optional files of a folder). */
  optional?: boolean;
  /** Ask the server (HEAD) whether a cached file changed: a different ETag or size downloads it again. */
  revalidate?: boolean;
}

/** The abort reason as an error (a DOMException 'AbortError' unless the caller gave another). */
export function abortError(signal: AbortSignal): Error {
  const r = signal.reason as unknown;
  return r instanceof Error || (typeof DOMException !== 'undefined' && r instanceof DOMException)
    ? (r as Error)
    : new DOMException('the load was cancelled', 'AbortError');
}

const looksLikeHTML = (head: Uint8Array): boolean =>
  /^\s*<(!doctype html|html|head|body)/i.test(new TextDecoder().decode(head.subarray(0, 64)));

const htmlError = (url: string, status: number) =>
  new DownloadError(
    `${url} returned an HTML page (HTTP ${status}), not a model file: a login, error or viewer page. ` +
      'On Hugging Face use the "…/resolve/main/…" address, not "…/blob/main/…"',
    url,
    status,
  );

/** The file at `url`, from the store when it holds the whole file, else downloaded (and then stored). */
export async function download(url: string, o: DownloadOptions & { optional: true }): Promise<Uint8Array | null>;
export async function download(url: string, o?: DownloadOptions): Promise<Uint8Array>;
export async function download(url: string, o: DownloadOptions = {}): Promise<Uint8Array | null> {
  const { signal, store } = o;
  if (signal?.aborted) throw abortError(signal);
  const hit = await store?.get(url);
  if (hit && !(o.revalidate && (await changed(url, hit.meta, signal)))) {
    o.onProgress?.({ url, loaded: hit.bytes.length, total: hit.bytes.length, fromCache: true });
    return hit.bytes;
  }
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (e) {
    if (signal?.aborted) throw abortError(signal);
    throw new DownloadError(`could not fetch ${url}: ${(e as Error).message} (offline, a wrong host, or no CORS headers)`, url);
  }
  if (res.status === 404 && o.optional) {
    await res.body?.cancel();
    return null;
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    const hint = res.status === 401 || res.status === 403 ? ' (a gated or private model needs an access token)' : '';
    throw new DownloadError(
      `could not fetch ${url}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${hint}`,
      url,
      res.status,
    );
  }
  if (/text\/html/i.test(res.headers.get('content-type') ?? '')) {
    await res.body?.cancel().catch(() => undefined);
    throw htmlError(url, res.status);
  }
  // A compressed body's Content-Length counts the compressed bytes: no size check then.
  const encoded = /gzip|br|deflate|zstd/i.test(res.headers.get('content-encoding') ?? '');
  const declared = encoded ? 0 : Number(res.headers.get('content-length') ?? 0);
  const bytes = await readBody(url, res, declared, o);
  if (looksLikeHTML(bytes)) throw htmlError(url, res.status);
  try {
    await store?.put(url, bytes, res.headers.get('etag'));
  } catch {
    // A full quota or a read-only directory: the model still loads, the file is only not kept.
  }
  return bytes;
}

/** True when the server's ETag or size for `url` differs from the cached record (HEAD request). */
async function changed(url: string, meta: Meta, signal?: AbortSignal): Promise<boolean> {
  try {
    const res = await fetch(url, { method: 'HEAD', signal });
    if (!res.ok) return false; // offline or gone: the cached copy still serves
    const etag = res.headers.get('etag');
    const size = res.headers.get('content-length');
    return (etag !== null && etag !== meta.etag) || (size !== null && Number(size) !== meta.bytes);
  } catch {
    if (signal?.aborted) throw abortError(signal);
    return false;
  }
}

async function readBody(url: string, res: Response, declared: number, o: DownloadOptions): Promise<Uint8Array> {
  const { signal } = o;
  const truncated = (loaded: number, why: string) =>
    new DownloadError(
      `${url}: the download ended after ${loaded} of ${declared} bytes (Content-Length)${why}; nothing was cached`,
      url,
      res.status,
    );
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  // Preallocated to the declared size. A cross-origin response hides Content-Encoding: its body may
  // have been decoded from a compressed transfer whose Content-Length counts the compressed bytes, so
  // its size may differ either way and is not checked (a body cut short there is a network error, which
  // browsers raise on a Content-Length mismatch). A longer body is collected in pieces past that size.
  const exact = res.type !== 'cors';
  let declaredSize = declared;
  let out: Uint8Array;
  try {
    out = new Uint8Array(declaredSize);
  } catch {
    await res.body.cancel().catch(() => undefined);
    throw new DownloadError(
      `${url}: ${declaredSize} bytes (Content-Length) are more than this runtime can hold in one buffer`,
      url,
      res.status,
    );
  }
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = res.body.getReader();
  const onAbort = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener('abort', onAbort);
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        if (signal?.aborted) throw abortError(signal);
        if (declaredSize) throw truncated(loaded, `: ${(e as Error).message}`);
        throw new DownloadError(`${url}: the download failed after ${loaded} bytes: ${(e as Error).message}`, url, res.status);
      }
      if (signal?.aborted) throw abortError(signal);
      if (r.done) break;
      const v = r.value;
      if (declaredSize && loaded + v.length > declaredSize) {
        if (exact) throw new DownloadError(`${url}: the server sent more than its Content-Length of ${declared} bytes`, url, res.status);
        chunks.push(out.slice(0, loaded));
        out = new Uint8Array(0);
        declaredSize = 0;
      }
      if (declaredSize) out.set(v, loaded);
      else chunks.push(v);
      loaded += v.length;
      o.onProgress?.({ url, loaded, total: declaredSize, fromCache: false });
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (declaredSize && loaded !== declaredSize) {
    if (exact) throw truncated(loaded, '');
    out = out.slice(0, loaded);
    o.onProgress?.({ url, loaded, total: loaded, fromCache: false });
  }
  if (!declaredSize) {
    out = new Uint8Array(loaded);
    let p = 0;
    for (const c of chunks) {
      out.set(c, p);
      p += c.length;
    }
    o.onProgress?.({ url, loaded, total: loaded, fromCache: false });
  }
  return out;
}
