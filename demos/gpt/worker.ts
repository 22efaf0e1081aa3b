// The "Small language models" page's worker: owns the engine, the model and its tokenizer so the page
// stays responsive while it loads and generates. Bundled models (public/models/): a tiny
// Llama-architecture model with its own BPE tokenizer and chat template (tools/train_llama.py), and a
// GPT-2-layout model with a character vocabulary (tools/train_gpt.py). Also GPT-2 124M from a URL,
// a local .gguf (Llama 3.x, SmolLM2, Qwen2.5, … with the vocabulary it embeds) or .safetensors file,
// and a Hugging Face model folder. Loading a model disposes the previous one.
import {
  Engine,
  deleteCached,
  exposeEngine,
  type MethodContext,
  downloadFile,
  listCached,
  GGUFFile,
  GPT2,
  GPT2Tokenizer,
  GPT2_SMALL,
  Llama,
  SafetensorsFile,
  TextTokenizer,
  type AttentionSpec,
  type ChatMessage,
  type GPT2Config,
  type GPT2Weights,
  type LlamaConfig,
  type LlamaOptions,
} from 'webgpu-nlp';
import {
  type Attention,
  type AttentionRequest,
  BUNDLED,
  type Bundled,
  type ChatTurn,
  type FromWorker,
  type GenerateRequest,
  type NamedBytes,
  type RequestName,
  type Sampling,
  type Step,
  type TokenPiece,
  type WeightChoice,
  windowBlock,
} from './protocol';

interface Tokenizer {
  encode(text: string): number[];
  decode(ids: number[]): string;
  /** Chat: the conversation's ids with the assistant's turn opened, and the ids that end a turn. */
  chat?: { encode(turns: ChatMessage[], open?: boolean): number[]; stops: number[] };
  /** One token as the attention map labels it (special tokens included); decode([id]) by default. */
  label?(id: number): string;
}

/** The running request's events (the library's progress channel; exposeEngine runs one request at a time). */
let post: (m: FromWorker) => void = () => undefined;
/** The running request's AbortSignal: the page's Stop, or a new model replacing this one. */
let signal: AbortSignal = new AbortController().signal;

let engine: Engine | null = null;
let model: { lm: GPT2 | Llama; tok: Tokenizer; name: string; vocab: number } | null = null;
/** What the current model was loaded from, kept to reload it with other weights. */
let source: (() => Promise<void>) | null = null;
let weights: WeightChoice = 'f32';

/** Small windows get blocks of 16 so the mask follows the window more closely (see windowBlock). */
function spec(a: Attention): AttentionSpec {
  return a.sparse ? { kind: 'sliding', window: a.window, blockSize: windowBlock(a.window) } : { kind: 'dense' };
}

function charTokenizer(vocab: string[]): Tokenizer {
  const index = new Map(vocab.map((ch, i) => [ch, i]));
  return {
    encode: (text) => [...text].map((ch) => index.get(ch)).filter((i): i is number => i !== undefined),
    decode: (ids) => ids.map((i) => vocab[i] ?? '').join(''),
  };
}

function hfTokenizer(t: TextTokenizer): Tokenizer {
  return {
    encode: (text) => t.encode(text),
    decode: (ids) => t.decode(ids, { skipSpecialTokens: true }),
    label: (id) => t.decode([id], { skipSpecialTokens: false }),
    chat: t.chatTemplate
      ? { encode: (turns, open = true) => t.encodeChat(turns, { addGenerationPrompt: open }), stops: t.stopTokens }
      : undefined,
  };
}

/** Llama weights for the menu's choice ('x + wte' is x: the token table follows the weights). */
const llamaWeights = (): LlamaOptions['weights'] => weights.split(' ')[0] as LlamaOptions['weights'];

async function install(
  lm: GPT2 | Llama,
  tok: Tokenizer,
  name: string,
  reload: () => Promise<void>,
  weightsLabel: string = weights,
): Promise<void> {
  model?.lm.dispose();
  await new Promise((r) => setTimeout(r, 0)); // the old model's plans are released in a microtask
  const vocab = lm instanceof GPT2 ? lm.config.vocab_size : lm.config.vocab_size;
  model = { lm, tok, name, vocab };
  source = reload;
  const a = engine!.adapter;
  const info =
    lm instanceof GPT2
      ? { arch: 'GPT-2', layers: lm.config.n_layer, heads: lm.config.n_head, kvHeads: lm.config.n_head }
      : {
          arch: lm.config.model_type,
          layers: lm.config.num_hidden_layers,
          heads: lm.config.num_attention_heads,
          kvHeads: lm.config.num_key_value_heads,
        };
  post({
    type: 'loaded',
    info: {
      name,
      ...info,
      vocab,
      weightBytes: lm.memoryBytes().weights,
      gpuBytes: engine!.memory().liveBytes,
      weights: weightsLabel,
      adapter: [a.vendor, a.architecture, a.description].filter(Boolean).join(' ') || 'your GPU',
      context: lm.maxLength,
      chat: !!tok.chat,
      separateTable: lm instanceof GPT2,
    },
  });
}

async function loadGPT2(bytes: Uint8Array, name: string, forceGpt2: boolean): Promise<void> {
  engine ??= await Engine.create({ powerPreference: 'high-performance' });
  const meta = SafetensorsFile.parse(bytes).metadata;
  let config: GPT2Config;
  let tok: Tokenizer;
  if (!forceGpt2 && meta.config && meta.vocab) {
    config = JSON.parse(meta.config) as GPT2Config;
    tok = charTokenizer(JSON.parse(meta.vocab) as string[]);
  } else {
    config = GPT2_SMALL;
    tok = await GPT2Tokenizer.load();
  }
  const gpt = await GPT2.fromSafetensors(engine, bytes, config, {
    weights: weights.split(' ')[0] as GPT2Weights,
    quantizeEmbedding: weights.endsWith('+ wte'),
  });
  await install(gpt, tok, name, () => loadGPT2(bytes, name, forceGpt2));
}

async function loadGGUF(bytes: Uint8Array, name: string): Promise<void> {
  engine ??= await Engine.create({ powerPreference: 'high-performance' });
  const file = GGUFFile.parse(bytes);
  const tok = TextTokenizer.fromGGUF(file); // checked before any GPU upload
  const lm = await Llama.fromGGUF(engine, bytes, { weights: llamaWeights(), maxLength: 2048 });
  // Packed GGUF matrices keep their own formats; the menu's choice applies to F32 / F16 / BF16 ones.
  const types = Object.entries(file.typeCounts({ matricesOnly: true }))
    .map(([t, n]) => `${n} ${t}`)
    .join(', ');
  await install(lm, hfTokenizer(tok), name, () => loadGGUF(bytes, name), `GGUF matrices (${types}; float ones as ${llamaWeights()})`);
}

/** A Hugging Face model folder's files by name (the last path part). */
async function loadFolder(files: NamedBytes[], name: string): Promise<void> {
  engine ??= await Engine.create({ powerPreference: 'high-performance' });
  const byName = new Map(files.map((f) => [f.name.split('/').pop()!, f.bytes]));
  const text = (n: string) => {
    const b = byName.get(n);
    return b ? new TextDecoder().decode(b) : null;
  };
  const config = text('config.json');
  if (!config) throw new Error('the folder has no config.json');
  const tokJson = text('tokenizer.json');
  if (!tokJson) throw new Error('the folder has no tokenizer.json (the model cannot read or write text without it)');
  const shards = [...byName.entries()].filter(([n]) => n.endsWith('.safetensors')).map(([, b]) => b);
  if (!shards.length) throw new Error('the folder has no .safetensors weights');
  const tok = TextTokenizer.fromJSON(tokJson, text('tokenizer_config.json') ?? {});
  const lm = await Llama.fromSafetensors(engine, shards, JSON.parse(config) as LlamaConfig, { weights: llamaWeights(), maxLength: 2048 });
  await install(lm, hfTokenizer(tok), name, () => loadFolder(files, name));
}

async function fetchAsset(path: string): Promise<Uint8Array> {
  const res = await fetch(`${import.meta.env.BASE_URL}${path}`);
  if (!res.ok) throw new Error(`could not fetch ${path}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function loadBundled(which: Bundled): Promise<void> {
  if (which === 'kjv-char-gpt') return loadGPT2(await fetchAsset('models/kjv-char-gpt.safetensors'), BUNDLED[which], false);
  const names = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'];
  const files = await Promise.all(names.map(async (name) => ({ name, bytes: await fetchAsset(`models/kjv-llama/${name}`) })));
  await loadFolder(files, BUNDLED[which]);
  // Its two LoRA adapters (tools/train_lora.py), fine-tuned on the Psalms and on the Proverbs.
  for (const book of BUNDLED_ADAPTERS) {
    const peft = ['adapter_config.json', 'adapter_model.safetensors'];
    adapterSources.set(
      book,
      await Promise.all(peft.map(async (name) => ({ name, bytes: await fetchAsset(`models/kjv-llama/lora-${book}/${name}`) }))),
    );
  }
  await reapplyAdapters();
}

/** The LoRA adapters the tiny Llama ships with (public/models/kjv-llama/lora-<name>/). */
const BUNDLED_ADAPTERS = ['psalms', 'proverbs'];

/** The files of each adapter loaded on the current model, to load them again on a reload with other weights. */
const adapterSources = new Map<string, NamedBytes[]>();

/** Loads `files` as a LoRA adapter: a .gguf file, or a PEFT folder's adapter_config.json and adapter_model.safetensors. */
async function loadAdapter(name: string, files: NamedBytes[]): Promise<void> {
  if (!model) throw new Error('no model loaded');
  const lm = model.lm;
  const byName = new Map(files.map((f) => [f.name.split('/').pop()!, f.bytes]));
  const gguf = files.find((f) => f.name.toLowerCase().endsWith('.gguf'));
  if (lm.adapters.includes(name)) lm.unloadAdapter(name);
  if (gguf) await lm.loadAdapter(name, gguf.bytes);
  else {
    const config = byName.get('adapter_config.json');
    const weights = byName.get('adapter_model.safetensors');
    if (!config || !weights)
      throw new Error('a PEFT adapter folder needs adapter_config.json and adapter_model.safetensors (or open a .gguf adapter)');
    await lm.loadAdapter(name, weights, new TextDecoder().decode(config));
  }
  adapterSources.set(name, files);
  postAdapters();
}

async function reapplyAdapters(): Promise<void> {
  for (const [name, files] of [...adapterSources]) await loadAdapter(name, files);
  postAdapters();
}

function postAdapters(): void {
  if (!model) return;
  const lm = model.lm;
  const hidden = lm instanceof GPT2 ? lm.config.n_embd : lm.config.hidden_size;
  post({ type: 'adapters', list: lm.adapters.map((n) => lm.adapterInfo(n)), baseBytes: lm.memoryBytes().weights, hidden });
}

/** A .gguf adapter's URL, or a PEFT folder's (its adapter_config.json and adapter_model.safetensors). */
async function loadAdapterUrl(url: string): Promise<void> {
  const base = url.replace(/\/+$/, '');
  const name = decodeURIComponent(base.split('/').pop() || 'adapter').replace(/\.gguf$/i, '');
  const get = async (u: string) => {
    const res = await fetch(u);
    if (!res.ok) throw new Error(`could not fetch ${u}: HTTP ${res.status}`);
    // A site's page for a missing file, or a viewer page, instead of the file itself.
    if (/text\/html/i.test(res.headers.get('content-type') ?? ''))
      throw new Error(`${u} returned an HTML page, not an adapter file (on Hugging Face, use the "resolve/main/…" links)`);
    return new Uint8Array(await res.arrayBuffer());
  };
  if (/\.gguf$/i.test(base)) return loadAdapter(name, [{ name: `${name}.gguf`, bytes: await get(base) }]);
  const names = ['adapter_config.json', 'adapter_model.safetensors'];
  await loadAdapter(name, await Promise.all(names.map(async (n) => ({ name: n, bytes: await get(`${base}/${n}`) }))));
}

/** The same prompt and draw under each adapter in turn (null: the base), streamed column by column. */
async function compareAdapters(prompt: string, s: Sampling, adapters: (string | null)[]): Promise<void> {
  if (!model) throw new Error('no model loaded');
  const { lm, tok } = model;
  const ids = tok.encode(prompt);
  if (!ids.length) throw new Error('the prompt has no tokens this model knows');
  const maxNewTokens = Math.min(s.maxNewTokens, lm.maxLength - ids.length);
  for (const [index, adapter] of adapters.entries()) {
    const out: number[] = [];
    for await (const id of lm.generate(ids, { ...s, maxNewTokens, stopTokens: [], adapter, signal })) {
      out.push(id);
      post({ type: 'adapter-text', index, adapter, text: tok.decode(out), done: false, final: false, stopped: false });
    }
    const stopped = signal.aborted;
    const final = stopped || index === adapters.length - 1;
    post({ type: 'adapter-text', index, adapter, text: tok.decode(out), done: true, final, stopped });
    if (stopped) break;
  }
}

/**
 * Downloaded models are kept by the library's cache (Cache Storage: a reload of the page needs no
 * network); the page shows how many files and bytes it holds.
 */
async function cacheInfo(fromCache?: boolean): Promise<void> {
  if (typeof caches === 'undefined') return;
  const files = await listCached();
  post({ type: 'cache', files: files.length, bytes: files.reduce((n, f) => n + f.bytes, 0), fromCache });
}

/**
 * The file at `url` through the library's downloadFile: from the cache when it was downloaded whole
 * before, else downloaded with progress (cancelled by `signal`: Stop), checked against its
 * Content-Length and then kept.
 */
async function download(url: string): Promise<Uint8Array> {
  let fromCache = false;
  try {
    const bytes = await downloadFile(url, {
      signal,
      onProgress: (p) => {
        fromCache = p.fromCache;
        if (!p.fromCache) post({ type: 'progress', loaded: p.loaded, total: p.total });
      },
    });
    await cacheInfo(fromCache);
    return bytes;
  } catch (e) {
    if (signal.aborted) throw new Error('download cancelled');
    throw e;
  }
}

async function generate(
  prompt: string,
  chat: ChatTurn[] | null,
  s: Sampling,
  attention: Attention,
  candidates: number,
  adapter: string | null,
): Promise<void> {
  if (!model) throw new Error('no model loaded');
  const t0 = performance.now();
  const { lm, tok } = model;
  if (chat && !tok.chat) throw new Error('this model has no chat template: turn chat off to continue text instead');
  const ids = chat ? tok.chat!.encode(chat) : tok.encode(prompt);
  if (!ids.length) throw new Error('the prompt has no tokens this model knows');
  const room = lm.maxLength - ids.length;
  if (room < 1)
    throw new Error(`the prompt has ${ids.length} tokens; this model holds ${lm.maxLength} positions, so there is no room to generate`);
  const maxNewTokens = Math.min(s.maxNewTokens, room); // said in the stats when it cuts the request
  const stopTokens = chat ? tok.chat!.stops : [];
  const out: number[] = [];
  let shown = '';
  let last = performance.now();
  let total = 0;
  let firstTokenMs = 0;
  let steps: Step[] = [];
  const label = (id: number) => tok.label?.(id) ?? tok.decode([id]);
  /** The text since the last message, the speed so far, and the steps' candidates. */
  const postTokens = (text: string) => {
    const ms = out.length > 1 ? total / (out.length - 1) : 0;
    post({ type: 'token', text: text.slice(shown.length), count: out.length, msPerToken: ms, tokensPerSecond: ms ? 1000 / ms : 0, steps });
    steps = [];
    shown = text;
  };
  let warmupMs = 0;
  if (!warmed.has(lm)) {
    post({ type: 'phase', text: 'compiling kernels (first run only)…' });
    // The model's warm-up compiles this prompt's plans with progress (i of n); Stop ends the wait.
    try {
      const w = await lm.warmup({
        signal,
        attention: spec(attention),
        maxPromptTokens: ids.length,
        onProgress: ({ done, total }) =>
          post({ type: 'phase', text: `compiling kernels (first run only) ${done} / ${total}`, done, total }),
      });
      warmupMs = w.ms;
    } catch (e) {
      if (!signal.aborted) throw e; // stopped: generate() below ends at once, as stopped
    }
  }
  const options = { ...s, maxNewTokens, stopTokens, attention: spec(attention), signal, candidates, adapter };
  for await (const id of lm.generate(ids, options)) {
    out.push(id);
    const now = performance.now();
    if (out.length === 1) {
      firstTokenMs = now - t0;
      warmed.add(lm);
    } else total += now - last;
    last = now;
    const c = lm.lastGeneration.candidates[out.length - 1];
    if (c) steps.push({ chosen: id, text: label(id), candidates: c.map((x) => ({ id: x.id, text: label(x.id), p: x.p, kept: x.kept })) });
    const text = tok.decode(out);
    if (text.endsWith('\uFFFD')) continue; // half of a multi-byte character: wait for the rest
    postTokens(text);
  }
  // What the last tokens held back (half a character at the end) still reaches the page.
  const text = tok.decode(out);
  if (steps.length || text !== shown) postTokens(text);
  const g = lm.lastGeneration;
  post({
    type: 'done',
    count: out.length,
    requested: s.maxNewTokens,
    room,
    promptTokens: ids.length,
    stopped: g.stopReason === 'abort',
    reason: g.stopReason,
    firstTokenMs,
    wallMs: performance.now() - t0,
    prefillMs: g.prefillMs,
    decodeMs: g.steps.reduce((a, x) => a + x.totalMs, 0),
    compileMs: warmupMs + g.compileMs,
  });
}

/** Models that generated once: their kernels are compiled. */
const warmed = new WeakSet<object>();

/**
 * The tokens of `text` (or of the conversation) as the tokenizer view shows them: a token that holds
 * only part of a character's UTF-8 bytes names the character and which part it is.
 */
function tokenize(text: string, chat: ChatTurn[] | null): FromWorker {
  if (!model) throw new Error('no model loaded');
  const { tok } = model;
  const ids = chat && tok.chat ? tok.chat.encode(chat) : tok.encode(text);
  const pieces: TokenPiece[] = [];
  for (let i = 0; i < ids.length; ) {
    const one = tok.label?.(ids[i]) ?? tok.decode([ids[i]]);
    let j = i + 1;
    if (one.includes('\uFFFD')) {
      while (j < ids.length && j - i < 4 && tok.decode(ids.slice(i, j)).includes('\uFFFD')) j++;
      const whole = tok.decode(ids.slice(i, j));
      const n = j - i;
      for (let k = i; k < j; k++) pieces.push({ id: ids[k], text: `⟨${whole.replace(/\uFFFD/g, '?')}:${k - i + 1}/${n}⟩`, special: false });
    } else pieces.push({ id: ids[i], text: one, special: !!tok.label && tok.decode([ids[i]]) === '' && one !== '' });
    i = j;
  }
  return { type: 'tokens', pieces, chat: !!(chat && tok.chat) };
}

/** How far sliding-window attention drifts from dense: KL(dense ‖ sparse) of next-token distributions. */
async function compare(text: string, attention: Attention): Promise<FromWorker> {
  if (!model) throw new Error('no model loaded');
  const ids = model.tok.encode(text).slice(-model.lm.maxLength);
  if (!ids.length) throw new Error('no tokens to compare');
  const V = model.vocab;
  const sparseSpec = spec({ ...attention, sparse: true });
  await model.lm.forward(ids, { attention: sparseSpec }); // compile both plans before timing
  let t0 = performance.now();
  const dense = await model.lm.forward(ids);
  const denseMs = performance.now() - t0;
  t0 = performance.now();
  const sparse = await model.lm.forward(ids, { attention: sparseSpec });
  const sparseMs = performance.now() - t0;
  const kls: number[] = [];
  for (let t = 0; t < ids.length; t++) {
    const logp = (row: Float32Array) => {
      let m = -Infinity;
      for (const v of row) m = Math.max(m, v);
      let z = 0;
      for (const v of row) z += Math.exp(v - m);
      return Array.from(row, (v) => v - m - Math.log(z));
    };
    const p = logp(dense.subarray(t * V, (t + 1) * V));
    const q = logp(sparse.subarray(t * V, (t + 1) * V));
    kls.push(p.reduce((s, lp, j) => s + Math.exp(lp) * (lp - q[j]), 0));
  }
  return {
    type: 'compare',
    kl: kls.reduce((a, b) => a + b, 0) / kls.length,
    klLast: kls[kls.length - 1],
    denseMs,
    sparseMs,
    tokens: ids.length,
  };
}

/** The attention map shows at most this many tokens (the last ones); the page says so when it cuts. */
const MAP_TOKENS = 256;

async function attention(
  text: string,
  chat: ChatTurn[] | null,
  layer: number,
  head: number,
  a: Attention,
  allHeads: boolean,
  transferOut: (list: Transferable[]) => void,
): Promise<FromWorker> {
  if (!model) throw new Error('no model loaded');
  // A conversation is shown as the model read it: the chat template's tokens around the turns.
  const all = chat && model.tok.chat ? model.tok.chat.encode(chat, false) : model.tok.encode(text);
  const ids = all.slice(-Math.min(MAP_TOKENS, model.lm.maxLength));
  if (!ids.length) throw new Error('no tokens to show');
  const s = spec(a);
  const weights = await model.lm.attentionWeights(ids, layer, head, { attention: s });
  const mask = model.lm.attentionMask(ids.length, s);
  const transfer: Transferable[] = [weights.buffer];
  if (mask) transfer.push(mask.buffer);
  // Every head of the layer for the small maps (one probe plan, run once per head).
  let heads: Float32Array | undefined;
  if (allHeads) {
    const H = model.lm instanceof GPT2 ? model.lm.config.n_head : model.lm.config.num_attention_heads;
    const T = ids.length;
    heads = new Float32Array(H * T * T);
    for (let h = 0; h < H; h++)
      heads.set(h === head ? weights : await model.lm.attentionWeights(ids, layer, h, { attention: s }), h * T * T);
    transfer.push(heads.buffer);
  }
  transferOut(transfer); // the maps move to the page, not copied
  return {
    type: 'attention',
    tokens: ids.map((i) => model!.tok.label?.(i) ?? model!.tok.decode([i])),
    weights,
    mask,
    window: a.sparse ? a.window : null,
    total: all.length,
    layer,
    head,
    heads,
  };
}

/**
 * The page's requests, served by the library's worker engine (exposeEngine): it runs them one at a time
 * in arrival order, carries their events (`post`, as progress) and their result, keeps an error's
 * class and message, and aborts `signal` when the page cancels (Stop, or a new model on its way).
 * Each method returns the page's message for its result, or null when its events said it all.
 */
type Method = (args: never, ctx: MethodContext) => Promise<FromWorker | null> | FromWorker | null;
const methods: Record<RequestName, Method> = {
  'load-bundled': async ({ model: which }: { model: Bundled }) => {
    adapterSources.clear(); // another model drops the adapters
    await loadBundled(which);
    return null;
  },
  /** One file: a .gguf (Llama family, its own tokenizer) or a .safetensors (GPT-2 layout). */
  'load-bytes': async ({ file, gpt2 }: { file: NamedBytes; gpt2: boolean }) => {
    adapterSources.clear();
    if (file.name.toLowerCase().endsWith('.gguf')) await loadGGUF(file.bytes, file.name);
    else await loadGPT2(file.bytes, file.name, gpt2);
    return null;
  },
  /** A Hugging Face model folder: config.json, tokenizer.json (+ tokenizer_config.json), *.safetensors. */
  'load-folder': async ({ files, name }: { files: NamedBytes[]; name: string }) => {
    adapterSources.clear();
    await loadFolder(files, name);
    return null;
  },
  /** Downloads into the browser's Cache Storage (a second load reads it from there); Stop cancels. */
  'load-url': async ({ url }: { url: string }) => {
    adapterSources.clear();
    const bytes = await download(url);
    // Our own models carry their config and vocabulary in the metadata; GPT-2 124M files do not.
    await loadGPT2(bytes, url.split('/').pop() || 'GPT-2 (124M)', false);
    return null;
  },
  'clear-cache': async () => {
    await deleteCached();
    await cacheInfo();
    return null;
  },
  'cache-info': async () => {
    await cacheInfo();
    return null;
  },
  'set-weights': async ({ weights: w }: { weights: WeightChoice }) => {
    weights = w;
    if (source) await source();
    await reapplyAdapters(); // the same adapters on the reloaded base
    return null;
  },
  /** Plain continuation of `prompt`, or with `chat` the next assistant turn of the conversation. */
  generate: async (a: GenerateRequest) => {
    await generate(a.prompt, a.chat, a.sampling, a.attention, a.candidates, a.adapter);
    return null;
  },
  /** LoRA: a PEFT folder (adapter_config.json + adapter_model.safetensors) or a llama.cpp .gguf adapter. */
  'load-adapter': async ({ name, files }: { name: string; files: NamedBytes[] }) => {
    await loadAdapter(name, files);
    return null;
  },
  /** LoRA from a URL: a .gguf adapter, or a PEFT folder's URL (its two files are fetched from it). */
  'load-adapter-url': async ({ url }: { url: string }) => {
    await loadAdapterUrl(url);
    return null;
  },
  /** The same prompt, seed and settings under each adapter (null: the base model), one after another. */
  'compare-adapters': async (a: { prompt: string; sampling: Sampling; adapters: (string | null)[] }) => {
    await compareAdapters(a.prompt, a.sampling, a.adapters);
    return null;
  },
  /** The tokens of a prompt (or of the conversation with the new turn), for the tokenizer view. */
  tokenize: ({ text, chat }: { text: string; chat: ChatTurn[] | null }) => tokenize(text, chat),
  compare: ({ text, attention: a }: { text: string; attention: Attention }) => compare(text, a),
  /** The map of one head, and (`allHeads`) small maps of every head of the layer. */
  attention: (a: AttentionRequest, ctx) =>
    attention(a.text, a.chat ?? null, a.layer, a.head, a.attention, !!a.allHeads, (l) => ctx.transfer(l)),
};

exposeEngine(self, {
  methods: Object.fromEntries(
    Object.entries(methods).map(([name, fn]) => [
      name,
      (args: unknown, ctx: MethodContext) => {
        post = (m) => ctx.progress(m);
        signal = ctx.signal;
        return (fn as (a: unknown, c: MethodContext) => unknown)(args, ctx);
      },
    ]),
  ),
});
