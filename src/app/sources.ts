// What loadModel was given, read as files by name: a URL of a .gguf or .safetensors file, a URL of a
// Hugging Face folder (…/resolve/main/), a File, a FileList or File[] (an input or a dropped folder),
// named bytes, or bytes alone (told apart by their magic). A folder's files are fetched as needed, in
// parallel, with one progress total over them all; a folder loaded once keeps a manifest in the cache
// (which optional files it has), so a second load asks the network nothing.
import { ArgumentError, FormatError } from '../errors';
import { type FileProgress, type FileStore, DownloadError, MANIFEST_SUFFIX, download } from './download';

/** Bytes with a name (a file of a folder, or one file). */
export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

export type ModelSource =
  | string
  | URL
  | Blob
  | File
  | FileList
  | readonly File[]
  | Uint8Array
  | ArrayBuffer
  | NamedBytes
  | readonly NamedBytes[];

/** One file's format by its first bytes. */
export function sniff(bytes: Uint8Array): 'gguf' | 'safetensors' | 'html' | 'unknown' {
  if (bytes.length >= 4 && bytes[0] === 0x47 && bytes[1] === 0x47 && bytes[2] === 0x55 && bytes[3] === 0x46) return 'gguf';
  if (bytes.length >= 9) {
    const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(0, true);
    if (n > 1 && n + 8 <= bytes.length && bytes[8] === 0x7b /* { */) return 'safetensors';
  }
  if (/^\s*</.test(new TextDecoder().decode(bytes.subarray(0, 16)))) return 'html';
  return 'unknown';
}

/** A model's files: read(name) returns the bytes, or null for an optional file the source lacks. */
export interface ModelFiles {
  /** A label for messages and info: the URL, the folder's or the file's name. */
  readonly name: string;
  /** The URL the files come from, when they do. */
  readonly url?: string;
  read(name: string, optional: true): Promise<Uint8Array | null>;
  read(name: string, optional?: false): Promise<Uint8Array>;
  /** How many bytes came from the cache and from the network so far. */
  readonly fromCache: number;
  readonly downloaded: number;
  /** Called once the model is built: a folder URL records its manifest in the cache. */
  done(): Promise<void>;
}

/** The source as one file (gguf / safetensors) or as a folder of named files. */
export type Resolved =
  | { kind: 'file'; name: string; bytes: Uint8Array; url?: string; fromCache?: boolean }
  | { kind: 'folder'; files: ModelFiles };

export interface ResolveOptions {
  signal?: AbortSignal;
  store: FileStore | null;
  revalidate?: boolean;
  onProgress: (p: { file: string; loaded: number; total: number; fromCache: boolean }) => void;
}

const fileName = (s: string) => s.split(/[?#]/)[0].split('/').filter(Boolean).pop() ?? s;

export async function resolveSource(source: ModelSource, o: ResolveOptions): Promise<Resolved> {
  if (typeof source === 'string' || source instanceof URL) {
    const url = new URL(String(source), typeof location !== 'undefined' ? location.href : undefined).href;
    const path = url.split(/[?#]/)[0];
    if (/\.(gguf|safetensors)$/i.test(path)) {
      let fromCache = false;
      const bytes = await download(url, {
        signal: o.signal,
        store: o.store,
        revalidate: o.revalidate,
        onProgress: (p) => {
          fromCache = p.fromCache;
          o.onProgress({ ...p, file: fileName(path) });
        },
      });
      return { kind: 'file', name: fileName(path), bytes, url, fromCache };
    }
    return { kind: 'folder', files: await urlFolder(path.endsWith('/') ? url : `${path}/`, o) };
  }
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
    return { kind: 'file', name: sniff(bytes) === 'gguf' ? 'model.gguf' : 'model.safetensors', bytes };
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) return namedFiles([await blobBytes(source)]);
  if (isNamedBytes(source)) return namedFiles([source]);
  const list: unknown[] = typeof FileList !== 'undefined' && source instanceof FileList ? [...source] : Array.isArray(source) ? source : [];
  if (!list.length)
    throw new ArgumentError(
      'loadModel: source must be a URL, a File, a FileList or File[] (a model folder), bytes, or { name, bytes }; ' +
        `got ${Array.isArray(source) || (typeof FileList !== 'undefined' && source instanceof FileList) ? 'an empty list' : typeof source}`,
    );
  const named = await Promise.all(list.map(async (f) => (isNamedBytes(f) ? f : await blobBytes(f as File))));
  return namedFiles(named);
}

function isNamedBytes(x: unknown): x is NamedBytes {
  return typeof x === 'object' && x !== null && typeof (x as NamedBytes).name === 'string' && (x as NamedBytes).bytes instanceof Uint8Array;
}

async function blobBytes(f: Blob | File): Promise<NamedBytes> {
  const file = f as File & { webkitRelativePath?: string };
  const name = file.webkitRelativePath || file.name || 'model';
  return { name, bytes: new Uint8Array(await f.arrayBuffer()) };
}

/** One file as itself; several as a folder, by their paths below the dropped folder (or bare names). */
function namedFiles(files: NamedBytes[]): Resolved {
  if (files.length === 1 && /\.(gguf|safetensors)$/i.test(files[0].name))
    return { kind: 'file', name: fileName(files[0].name), bytes: files[0].bytes };
  if (files.length === 1 && sniff(files[0].bytes) !== 'unknown' && sniff(files[0].bytes) !== 'html')
    return { kind: 'file', name: fileName(files[0].name), bytes: files[0].bytes };
  // 'my-model/1_Pooling/config.json' → '1_Pooling/config.json' when every path shares the first part.
  const parts = files.map((f) => f.name.split('/').filter(Boolean));
  const shared = parts.every((p) => p.length > 1 && p[0] === parts[0][0]);
  const byPath = new Map<string, Uint8Array>();
  const byBase = new Map<string, Uint8Array>();
  parts.forEach((p, i) => {
    byPath.set((shared ? p.slice(1) : p).join('/'), files[i].bytes);
    byBase.set(p[p.length - 1], files[i].bytes);
  });
  const folder = shared ? parts[0][0] : 'files';
  const read = async (name: string, optional?: boolean) => {
    const b = byPath.get(name) ?? (name.includes('/') ? undefined : byBase.get(name));
    if (b) return b;
    if (optional) return null;
    throw new FormatError(`loadModel: the folder '${folder}' has no ${name} (it has ${[...byPath.keys()].join(', ')})`);
  };
  return {
    kind: 'folder',
    files: {
      name: folder,
      read: read as ModelFiles['read'],
      fromCache: 0,
      downloaded: 0,
      done: async () => undefined,
    },
  };
}

/** The manifest's key in the cache: the folder URL with a name no repository file has. */
const manifestKey = (base: string) => `${base}${MANIFEST_SUFFIX}`;

async function urlFolder(base: string, o: ResolveOptions): Promise<ModelFiles> {
  const progress = new Map<string, FileProgress>();
  // Files the manifest of an earlier load lists as absent are not asked for again.
  const cachedManifest = await o.store?.get(manifestKey(base));
  let absent: Set<string> | null = null;
  if (cachedManifest) {
    try {
      absent = new Set((JSON.parse(new TextDecoder().decode(cachedManifest.bytes)) as { absent: string[] }).absent);
    } catch {
      absent = null;
    }
  }
  const seenAbsent = new Set<string>();
  const files: ModelFiles = {
    name: base,
    url: base,
    fromCache: 0,
    downloaded: 0,
    read: (async (name: string, optional?: boolean) => {
      if (optional && absent?.has(name)) return null;
      const url = base + name;
      let bytes: Uint8Array | null;
      try {
        bytes = await download(url, {
          signal: o.signal,
          store: o.store,
          revalidate: o.revalidate,
          optional,
          onProgress: (p) => {
            progress.set(url, p);
            let loaded = 0;
            let total = 0;
            for (const f of progress.values()) {
              loaded += f.loaded;
              total += f.total || f.loaded;
            }
            o.onProgress({ file: name, loaded, total, fromCache: p.fromCache });
          },
        });
      } catch (e) {
        if (name === 'config.json' && e instanceof DownloadError && e.status === 404)
          throw new DownloadError(
            `${e.message}: a model folder needs config.json; give the address of a .gguf / .safetensors file, or of a Hugging Face folder (…/resolve/main/)`,
            e.url,
            e.status,
          );
        throw e;
      }
      if (bytes === null) seenAbsent.add(name);
      else {
        const p = progress.get(url);
        if (p?.fromCache) (files as { fromCache: number }).fromCache += bytes.length;
        else (files as { downloaded: number }).downloaded += bytes.length;
      }
      return bytes;
    }) as ModelFiles['read'],
    async done() {
      if (!o.store) return;
      const json = JSON.stringify({ absent: [...new Set([...(absent ?? []), ...seenAbsent])] });
      await o.store.put(manifestKey(base), new TextEncoder().encode(json), null).catch(() => undefined);
    },
  };
  return files;
}
