// An encoder from the files of a Hugging Face model folder, as downloaded or picked in a browser:
// config.json and the safetensors weights (one file or shards), the tokenizer (tokenizer.json and
// tokenizer_config.json) where the folder has one, and a sentence-transformers folder's modules.json,
// whose Pooling module's config.json (1_Pooling/config.json) and Normalize module set embed()'s defaults.
// Paths are relative to the folder; a common top folder (a picked directory's own name) is dropped.
import { ArgumentError } from '../errors';
import type { GPUContext } from '../gpu/engine';
import { type EmbedOptions, Encoder, type EncoderConfig, type EncoderOptions } from './encoder';
import { sentenceTransformersOptions } from './encoder-tasks';
import { TextTokenizer } from './text-tokenizer';

/** One file of a folder: its path inside the folder ('config.json', '1_Pooling/config.json') and bytes. */
export interface FolderFile {
  name: string;
  bytes: Uint8Array;
}

export interface EncoderFolder {
  encoder: Encoder;
  /** The folder's tokenizer, or null where it has no tokenizer.json. */
  tokenizer: TextTokenizer | null;
  /** embed()'s defaults the folder sets (sentence-transformers), already applied to the encoder. */
  embed: EmbedOptions;
  /** The folder's config.json, parsed. */
  config: EncoderConfig;
}

/** The files keyed by path inside the folder (without a top folder that every path shares). */
export function folderPaths(files: readonly FolderFile[]): Map<string, Uint8Array> {
  if (!Array.isArray(files) || files.length === 0) throw new ArgumentError('loadEncoderFolder: the folder has no files');
  const paths = files.map((f) => {
    if (typeof f?.name !== 'string' || !(f.bytes instanceof Uint8Array))
      throw new ArgumentError('loadEncoderFolder: each file must be { name: string, bytes: Uint8Array }');
    return f.name.replace(/\\/g, '/').replace(/^\.?\//, '');
  });
  const top = paths[0].includes('/') ? paths[0].split('/')[0] : null;
  const strip = top !== null && paths.every((p) => p.startsWith(`${top}/`));
  return new Map(paths.map((p, i) => [strip ? p.slice(top!.length + 1) : p, files[i].bytes]));
}

/**
 * Loads an encoder folder: `config.json` and the `.safetensors` files at its top level (shards in name
 * order), the tokenizer where there is one, and a sentence-transformers folder's pooling and
 * normalisation as embed()'s defaults (`options.embed` overrides them).
 */
export async function loadEncoderFolder(
  engine: GPUContext,
  files: readonly FolderFile[],
  options: EncoderOptions = {},
): Promise<EncoderFolder> {
  const byPath = folderPaths(files);
  const text = (p: string): string | null => {
    const b = byPath.get(p);
    return b ? new TextDecoder().decode(b) : null;
  };
  const json = (p: string): unknown => {
    const t = text(p);
    if (t === null) return null;
    try {
      return JSON.parse(t);
    } catch (e) {
      throw new ArgumentError(`loadEncoderFolder: ${p} is not valid JSON (${(e as Error).message})`);
    }
  };
  const config = json('config.json') as EncoderConfig | null;
  if (!config || typeof config !== 'object')
    throw new ArgumentError(`loadEncoderFolder: the folder has no config.json (files: ${[...byPath.keys()].slice(0, 8).join(', ')})`);
  const shards = [...byPath.keys()].filter((p) => !p.includes('/') && p.endsWith('.safetensors')).sort();
  if (shards.length === 0) throw new ArgumentError('loadEncoderFolder: the folder has no .safetensors weights at its top level');
  let embed: EmbedOptions = {};
  const modules = json('modules.json');
  if (modules !== null) {
    const list = Array.isArray(modules) ? (modules as { type?: string; path?: string }[]) : [];
    const pooling = list.find((m) => String(m?.type ?? '').endsWith('.Pooling'));
    const st = sentenceTransformersOptions(
      modules,
      pooling ? (json(`${pooling.path ?? '1_Pooling'}/config.json`) ?? undefined) : undefined,
    );
    embed = Object.fromEntries(Object.entries(st).filter(([, v]) => v !== undefined)) as EmbedOptions;
  }
  const tokJson = text('tokenizer.json');
  // Read before the weights go to the GPU: a bad tokenizer fails with nothing allocated.
  const tokenizer = tokJson === null ? null : TextTokenizer.fromJSON(tokJson, json('tokenizer_config.json') ?? {});
  const encoder = await Encoder.fromSafetensors(
    engine,
    shards.map((p) => byPath.get(p)!),
    config,
    { ...options, embed: { ...embed, ...options.embed } },
  );
  return { encoder, tokenizer, embed: { ...embed, ...options.embed }, config };
}
