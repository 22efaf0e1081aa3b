// loadModel: one call from a URL, a file, a dropped folder or bytes to a model on the GPU with its
// tokenizer. The format is found inside (GGUF magic; a folder's config.json model_type; a lone
// .safetensors file's metadata), so is the tokenizer (tokenizer.json + tokenizer_config.json, a GGUF's
// embedded vocabulary, the character vocabulary this project's small GPTs carry, GPT-2's BPE for a
// bare GPT-2 checkpoint). The loaders are the models' own (Llama.fromGGUF / fromSafetensors,
// GPT2.fromSafetensors, Encoder.fromSafetensors).
import { Engine } from '../engine';
import { ArgumentError, FormatError, UnsupportedError } from '../errors';
import type { GPUContext } from '../gpu/engine';
import { GGUFFile } from '../io/gguf';
import { SafetensorsFile } from '../io/safetensors';
import type { WeightsChoice } from '../models/checkpoint';
import { Decoder } from '../models/decoder';
import { ENCODER_TYPES, type Encoder } from '../models/encoder';
import { loadEncoderFolder } from '../models/encoder-folder';
import { GPT2, GPT2_SMALL, type GPT2Config, type GPT2Weights } from '../models/gpt2';
import { Llama, type LlamaConfig } from '../models/llama';
import { TextTokenizer } from '../models/text-tokenizer';
import { GPT2Tokenizer } from '../models/tokenizer';
import { type CacheOption, abortError, fileStore } from './download';
import { type ModelFiles, type ModelSource, resolveSource, sniff } from './sources';

/** A model's vocabulary as text: every tokenizer loadModel returns has these two. */
export interface Tokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

/** The character vocabulary of this project's small GPTs (tools/train_gpt.py: metadata 'vocab'). */
export class CharTokenizer implements Tokenizer {
  private readonly index: Map<string, number>;
  constructor(readonly vocab: readonly string[]) {
    this.index = new Map(vocab.map((ch, i) => [ch, i]));
  }
  /** Characters outside the vocabulary are dropped. */
  encode(text: string): number[] {
    return [...text].map((ch) => this.index.get(ch)).filter((i): i is number => i !== undefined);
  }
  decode(ids: readonly number[]): string {
    return ids.map((i) => this.vocab[i] ?? '').join('');
  }
}

export type AnyTokenizer = TextTokenizer | GPT2Tokenizer | CharTokenizer;
export type LoadedModelKind = GPT2 | Llama | Encoder;

export interface LoadProgress {
  /** 'download' (bytes of all files, `fromCache` when read from the cache), 'build' (uploading to the GPU), 'warmup' (compiling kernels). */
  phase: 'download' | 'build' | 'warmup';
  /** The file the last bytes belong to (download), or what is being done. */
  file?: string;
  /** Bytes (download) or steps (warmup) so far, of `total` (0 while unknown). */
  loaded: number;
  total: number;
  fromCache?: boolean;
  /** A line for a progress label. */
  text: string;
}

export interface LoadOptions {
  /** The engine to load into; one is created (and owned by the result: dispose() frees it) when absent. */
  engine?: GPUContext;
  onProgress?: (p: LoadProgress) => void;
  /** Cancels the download and the load; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Where downloads are kept: 'browser' (Cache Storage; the default where it exists), { dir } (Node), or false. */
  cache?: CacheOption;
  /** Ask the server whether cached files changed (a HEAD per file; a new ETag or size downloads again). Default false. */
  revalidate?: boolean;
  /**
   * How f32 / f16 / bf16 weights are stored on the GPU: 'auto' (the default: as the file stores them;
   * GPT-2 in f32), 'f32', 'f16', 'bf16', 'int8', 'q4_0', 'q4_k'. Packed GGUF tensors keep their format.
   */
  weights?: WeightsChoice;
  /** Decoders: KV caches in 'f32' (default) or 'f16'. */
  kvCache?: 'f32' | 'f16';
  /** Decoders: KV-cache positions (default the model's context, at most 4096 for the Llama family). */
  maxLength?: number;
  /** The kind of model the app expects: another is an error (and the result is typed as that kind). */
  kind?: 'decoder' | 'encoder';
  /**
   * Decoders: compile the kernels before returning (model.warmup(), with progress as phase 'warmup');
   * an object is warmup()'s options (maxPromptTokens: the longest prompt whose prefill is compiled).
   */
  warmup?: boolean | { maxPromptTokens?: number; repetitionPenalty?: boolean };
}

export interface ModelInfo {
  kind: 'decoder' | 'encoder';
  /** 'gpt2', 'llama', 'qwen2', 'bert', 'roberta', 'modernbert', … */
  arch: string;
  /** The file or folder name, or the URL. */
  name: string;
  url: string | null;
  format: 'gguf' | 'safetensors';
  /** Weight files read (shards of a folder: more than one). */
  files: number;
  /** Bytes read from the cache and from the network. */
  fromCacheBytes: number;
  downloadedBytes: number;
  /** GPU bytes of the weights (decoders). */
  weightBytes: number | null;
  /** Positions a decoder holds (prompt + generated); an encoder's longest sequence. */
  context: number;
  vocab: number;
  /** The tokenizer has a chat template. */
  chatTemplate: boolean;
  tokenizer: 'tokenizer.json' | 'gguf' | 'characters' | 'gpt2-bpe' | null;
}

export interface LoadedModel<M extends LoadedModelKind = LoadedModelKind> {
  model: M;
  /** Null when the source has no vocabulary (a GGUF without tokenizer.ggml.*, a folder without tokenizer.json). */
  tokenizer: AnyTokenizer | null;
  info: ModelInfo;
  engine: GPUContext;
  /** Frees the model, and the engine when loadModel created it. */
  dispose(): void;
}

const bytesLabel = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${Math.ceil(n / 1024)} kB`);

/**
 * Loads a decoder (GPT-2, the Llama family) or an encoder (BERT, RoBERTa, DistilBERT, ModernBERT) with
 * its tokenizer from `source`: the URL of a .gguf or .safetensors file or of a Hugging Face folder
 * (…/resolve/main/: config.json, tokenizer files, model.safetensors or the shards its index lists), a
 * File, a FileList / File[] (an input or a dropped folder), or bytes.
 */
export async function loadModel(source: ModelSource, options: LoadOptions & { kind: 'decoder' }): Promise<LoadedModel<GPT2 | Llama>>;
export async function loadModel(source: ModelSource, options: LoadOptions & { kind: 'encoder' }): Promise<LoadedModel<Encoder>>;
export async function loadModel(source: ModelSource, options?: LoadOptions): Promise<LoadedModel>;
export async function loadModel(source: ModelSource, options: LoadOptions = {}): Promise<LoadedModel> {
  if (options.kind !== undefined && options.kind !== 'decoder' && options.kind !== 'encoder')
    throw new ArgumentError(`loadModel: kind must be 'decoder' or 'encoder', got ${JSON.stringify(options.kind)}`);
  const { signal, onProgress } = options;
  if (signal?.aborted) throw abortError(signal);
  if (options.kvCache !== undefined && options.kvCache !== 'f32' && options.kvCache !== 'f16')
    throw new ArgumentError(`loadModel: kvCache must be 'f32' or 'f16', got ${JSON.stringify(options.kvCache)}`);
  const store = fileStore(options.cache);
  const resolved = await resolveSource(source, {
    signal,
    store,
    revalidate: options.revalidate,
    onProgress: (p) =>
      onProgress?.({
        phase: 'download',
        ...p,
        text: `${p.fromCache ? 'reading from the cache' : 'downloading'} ${p.file}: ${bytesLabel(p.loaded)}${p.total ? ` of ${bytesLabel(p.total)}` : ''}`,
      }),
  });
  if (signal?.aborted) throw abortError(signal);
  const ownEngine = !options.engine;
  const engine = options.engine ?? (await Engine.create({ powerPreference: 'high-performance' }));
  let built: Omit<LoadedModel, 'engine' | 'dispose' | 'info'> & { info: Omit<ModelInfo, 'fromCacheBytes' | 'downloadedBytes'> };
  let files: ModelFiles | null = null;
  try {
    onProgress?.({ phase: 'build', loaded: 0, total: 0, text: 'uploading the weights to the GPU' });
    if (resolved.kind === 'file') built = await fromFile(engine, resolved.name, resolved.bytes, resolved.url ?? null, options);
    else {
      files = resolved.files;
      built = await fromFolder(engine, files, options);
    }
  } catch (e) {
    if (ownEngine) engine.dispose();
    throw e;
  }
  const dispose = () => {
    built.model.dispose();
    if (ownEngine) engine.dispose();
  };
  if (options.kind && built.info.kind !== options.kind) {
    dispose();
    const a = (k: string) => (k === 'encoder' ? 'an encoder' : 'a decoder');
    throw new UnsupportedError(
      `loadModel: ${built.info.name} is ${a(built.info.kind)} (${built.info.arch}); the app asked for ${a(options.kind)}`,
    );
  }
  // Decoders keep their tokenizer for model.chat() (a TextTokenizer: the one with a chat template).
  if (built.tokenizer instanceof TextTokenizer && 'tokenizer' in built.model)
    (built.model as { tokenizer: unknown }).tokenizer = built.tokenizer;
  try {
    if (signal?.aborted) throw abortError(signal);
    await files?.done();
    if (options.warmup && built.model instanceof Decoder) {
      await built.model.warmup({
        ...(typeof options.warmup === 'object' ? options.warmup : {}),
        signal,
        onProgress: (p) => onProgress?.({ phase: 'warmup', loaded: p.done, total: p.total, text: p.text }),
      });
    }
  } catch (e) {
    dispose();
    throw e;
  }
  const one = resolved.kind === 'file' && resolved.url ? resolved : null;
  const fromCacheBytes = files ? files.fromCache : one?.fromCache ? one.bytes.length : 0;
  const downloadedBytes = files ? files.downloaded : one && !one.fromCache ? one.bytes.length : 0;
  return { ...built, info: { ...built.info, fromCacheBytes, downloadedBytes }, engine, dispose };
}

const decoderOptions = (o: LoadOptions) => ({ kvCache: o.kvCache, ...(o.maxLength !== undefined ? { maxLength: o.maxLength } : {}) });

/** GPT-2 stores 'auto' as f32 (its loader has no 'auto'). */
const gpt2Weights = (w: WeightsChoice | undefined): GPT2Weights => (w === undefined || w === 'auto' ? 'f32' : w);

function decoderInfo(model: GPT2 | Llama): Pick<ModelInfo, 'kind' | 'arch' | 'weightBytes' | 'context' | 'vocab'> {
  return {
    kind: 'decoder',
    arch: model instanceof GPT2 ? 'gpt2' : model.config.model_type,
    weightBytes: model.memoryBytes().weights,
    context: model.maxLength,
    vocab: model.config.vocab_size,
  };
}

const oneFileInfo = (
  model: GPT2 | Llama,
  name: string,
  url: string | null,
  format: ModelInfo['format'],
  tokenizer: ModelInfo['tokenizer'],
  chatTemplate: boolean,
) => ({ ...decoderInfo(model), name, url, format, files: 1, chatTemplate, tokenizer });

async function fromFile(engine: GPUContext, name: string, bytes: Uint8Array, url: string | null, o: LoadOptions) {
  const kind = sniff(bytes);
  if (kind === 'gguf') {
    const file = GGUFFile.parse(bytes);
    // The vocabulary is read before any GPU upload: a broken one fails fast.
    const tokenizer = file.metadata.has('tokenizer.ggml.model') ? TextTokenizer.fromGGUF(file) : null;
    const model = await Llama.fromGGUF(engine, bytes, { weights: o.weights, ...decoderOptions(o) });
    return { model, tokenizer, info: oneFileInfo(model, name, url, 'gguf', tokenizer ? 'gguf' : null, !!tokenizer?.chatTemplate) };
  }
  if (kind === 'safetensors') {
    // This project's small GPTs carry their config and character vocabulary in the metadata; a bare
    // GPT-2 checkpoint (openai-community/gpt2's model.safetensors) is GPT-2 124M with its BPE.
    const meta = SafetensorsFile.parse(bytes).metadata;
    let config: GPT2Config = GPT2_SMALL;
    let tokenizer: AnyTokenizer;
    if (meta.config && meta.vocab) {
      config = JSON.parse(meta.config) as GPT2Config;
      tokenizer = new CharTokenizer(JSON.parse(meta.vocab) as string[]);
    } else tokenizer = await GPT2Tokenizer.load();
    const model = await GPT2.fromSafetensors(engine, bytes, config, { weights: gpt2Weights(o.weights), ...decoderOptions(o) });
    const kind = tokenizer instanceof CharTokenizer ? 'characters' : 'gpt2-bpe';
    return { model, tokenizer, info: oneFileInfo(model, name, url, 'safetensors', kind, false) };
  }
  if (kind === 'html')
    throw new FormatError(
      `loadModel: ${url ?? name} is an HTML page, not a model file (on Hugging Face use the "…/resolve/main/…" address)`,
    );
  throw new FormatError(
    `loadModel: ${url ?? name} is neither GGUF (magic 'GGUF') nor safetensors (a JSON header); first bytes ${[...bytes.subarray(0, 8)]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join(' ')}`,
  );
}

const json = (bytes: Uint8Array, what: string): Record<string, unknown> => {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new FormatError(`loadModel: ${what} is not valid JSON (${(e as Error).message})`);
  }
};

/** The weight files of a folder: model.safetensors, or the shards model.safetensors.index.json lists (read in parallel). */
async function weightFiles(files: ModelFiles): Promise<Uint8Array[]> {
  const index = await files.read('model.safetensors.index.json', true);
  if (!index) return [await files.read('model.safetensors')];
  const map = json(index, `${files.name} model.safetensors.index.json`).weight_map;
  if (typeof map !== 'object' || map === null)
    throw new FormatError(`loadModel: ${files.name}model.safetensors.index.json has no weight_map`);
  const shards = [...new Set(Object.values(map as Record<string, unknown>).map(String))];
  if (!shards.length) throw new FormatError(`loadModel: ${files.name}model.safetensors.index.json lists no shards`);
  if (shards.some((s) => s.includes('..') || s.startsWith('/')))
    throw new FormatError(`loadModel: model.safetensors.index.json names a shard outside the folder: ${shards.join(', ')}`);
  return Promise.all(shards.map((s) => files.read(s)));
}

async function fromFolder(engine: GPUContext, files: ModelFiles, o: LoadOptions) {
  const configBytes = await files.read('config.json');
  const config = json(configBytes, `${files.name} config.json`);
  const type = String(config.model_type ?? '');
  const [tokJson, tokConfig, modules] = await Promise.all([
    files.read('tokenizer.json', true),
    files.read('tokenizer_config.json', true),
    files.read('modules.json', true),
  ]);
  const encoder =
    (ENCODER_TYPES as readonly string[]).includes(type) ||
    (!type &&
      /^(Bert|Roberta|XLMRoberta|DistilBert|ModernBert)(Model|For)/.test(
        String((config.architectures as string[] | undefined)?.[0] ?? ''),
      ));
  const common = { name: files.name, url: files.url ?? null, format: 'safetensors' as const };
  const tokenizerKind = tokJson ? ('tokenizer.json' as const) : null;
  if (encoder) {
    // The files loadEncoderFolder reads (it sets embed()'s defaults from a sentence-transformers folder).
    const named = (name: string, bytes: Uint8Array | null) => (bytes ? [{ name, bytes }] : []);
    const folder = [
      ...named('config.json', configBytes),
      ...named('tokenizer.json', tokJson),
      ...named('tokenizer_config.json', tokConfig),
      ...named('modules.json', modules),
    ];
    if (modules) {
      let list: unknown = null;
      try {
        list = JSON.parse(new TextDecoder().decode(modules)); // loadEncoderFolder names a broken one
      } catch {}
      const pooling = Array.isArray(list)
        ? (list as { type?: string; path?: string }[]).find((m) => String(m?.type ?? '').endsWith('.Pooling'))
        : undefined;
      const path = `${pooling?.path || '1_Pooling'}/config.json`;
      if (pooling) folder.push(...named(path, await files.read(path, true)));
    }
    const weights = await weightFiles(files);
    for (const [i, bytes] of weights.entries()) folder.push({ name: `weights-${String(i).padStart(5, '0')}.safetensors`, bytes });
    const { encoder: model, tokenizer } = await loadEncoderFolder(engine, folder, { weights: o.weights });
    return {
      model,
      tokenizer,
      info: {
        ...common,
        kind: 'encoder' as const,
        arch: model.shape.type,
        files: weights.length,
        weightBytes: null,
        context: model.shape.positions,
        vocab: model.shape.vocab,
        chatTemplate: false,
        tokenizer: tokenizerKind,
      },
    };
  }
  const tokenizer = tokJson
    ? TextTokenizer.fromJSON(new TextDecoder().decode(tokJson), tokConfig ? new TextDecoder().decode(tokConfig) : {})
    : null;
  const weights = await weightFiles(files);
  let model: GPT2 | Llama;
  if (type === 'gpt2') {
    if (weights.length !== 1)
      throw new UnsupportedError(`loadModel: a GPT-2 checkpoint in ${weights.length} shards is not supported (one model.safetensors)`);
    model = await GPT2.fromSafetensors(engine, weights[0], config as unknown as GPT2Config, {
      weights: gpt2Weights(o.weights),
      ...decoderOptions(o),
    });
  } else
    model = await Llama.fromSafetensors(engine, weights, config as unknown as LlamaConfig, { weights: o.weights, ...decoderOptions(o) });
  return {
    model,
    tokenizer,
    info: { ...common, ...decoderInfo(model), files: weights.length, chatTemplate: !!tokenizer?.chatTemplate, tokenizer: tokenizerKind },
  };
}
