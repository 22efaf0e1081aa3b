// The GPT demo's worker: owns the engine and the model so the page stays responsive while it loads
// and generates. Default model: a small GPT-2-layout model trained on the King James Bible with a
// character vocabulary (tools/train_gpt.py); or GPT-2 124M from a URL or a local file with the BPE
// tokenizer. Loading a model disposes the previous one.
import {
  Engine,
  GPT2,
  GPT2Tokenizer,
  GPT2_SMALL,
  SafetensorsFile,
  type AttentionSpec,
  type GPT2Config,
  type GPT2Weights,
} from 'webgpu-nlp';
import type { Attention, FromWorker, ToWorker, WeightChoice } from './protocol';

interface Tokenizer {
  encode(text: string): number[];
  decode(ids: number[]): string;
}

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

let engine: Engine | null = null;
let model: { gpt: GPT2; tok: Tokenizer; name: string } | null = null;
/** The last loaded file, kept to reload it with other weights. */
let source: { bytes: Uint8Array; name: string; gpt2: boolean } | null = null;
let weights: WeightChoice = 'f32';

function spec(a: Attention): AttentionSpec {
  return a.sparse ? { kind: 'sliding', window: a.window, blockSize: 32 } : { kind: 'dense' };
}

function charTokenizer(vocab: string[]): Tokenizer {
  const index = new Map(vocab.map((ch, i) => [ch, i]));
  return {
    encode: (text) => [...text].map((ch) => index.get(ch)).filter((i): i is number => i !== undefined),
    decode: (ids) => ids.map((i) => vocab[i] ?? '').join(''),
  };
}

async function load(bytes: Uint8Array, name: string, forceGpt2: boolean): Promise<void> {
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
  model?.gpt.dispose();
  await new Promise((r) => setTimeout(r, 0)); // the old model's plans are released in a microtask
  model = { gpt, tok, name };
  source = { bytes, name, gpt2: forceGpt2 };
  const a = engine.adapter;
  post({
    type: 'loaded',
    info: {
      name,
      layers: config.n_layer,
      heads: config.n_head,
      vocab: config.vocab_size,
      weightBytes: gpt.memoryBytes().weights,
      gpuBytes: engine.memory().liveBytes,
      weights,
      adapter: [a.vendor, a.architecture, a.description].filter(Boolean).join(' ') || 'your GPU',
      context: gpt.maxLength,
    },
  });
}

async function fetchWithProgress(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} for ${url}`);
  // A login page, an error page or a 'blob' viewer instead of the file itself.
  if (/text\/html/i.test(res.headers.get('content-type') ?? '')) {
    throw new Error('this URL returned an HTML page, not a .safetensors file (on Hugging Face, use the "resolve/main/…" link)');
  }
  const total = Number(res.headers.get('content-length') ?? 0);
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    post({ type: 'progress', loaded, total });
  }
  const out = new Uint8Array(loaded);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

async function generate(
  prompt: string,
  s: { maxNewTokens: number; temperature: number; topK: number; topP: number; seed: number },
  attention: Attention,
): Promise<void> {
  if (!model) throw new Error('no model loaded');
  const { gpt, tok } = model;
  const ids = tok.encode(prompt);
  if (!ids.length) throw new Error('the prompt has no tokens this model knows');
  const room = gpt.maxLength - ids.length;
  if (room < 1)
    throw new Error(`the prompt has ${ids.length} tokens; this model holds ${gpt.maxLength} positions, so there is no room to generate`);
  const maxNewTokens = Math.min(s.maxNewTokens, room); // said in the stats when it cuts the request
  const out: number[] = [];
  let shown = '';
  let last = performance.now();
  let total = 0;
  for await (const id of gpt.generate(ids, { ...s, maxNewTokens, attention: spec(attention) })) {
    if (stopRequested) break; // return() on the iterator: the model is free for the next request
    out.push(id);
    const now = performance.now();
    if (out.length > 1) total += now - last;
    last = now;
    const text = tok.decode(out);
    const ms = out.length > 1 ? total / (out.length - 1) : 0;
    post({ type: 'token', text: text.slice(shown.length), count: out.length, msPerToken: ms, tokensPerSecond: ms ? 1000 / ms : 0 });
    shown = text;
  }
  const cappedAt = maxNewTokens < s.maxNewTokens ? maxNewTokens : undefined;
  post({ type: 'done', count: out.length, prefillMs: gpt.lastGeneration.prefillMs, stopped: stopRequested, cappedAt });
}

// Requests that use the model run one at a time, in arrival order: a weights change or a new file
// arriving mid-generation stops that generation after its current token, then reloads, instead of
// disposing the model under it.
let stopRequested = false;
let queue: Promise<unknown> = Promise.resolve();
function exclusive(fn: () => Promise<void>): Promise<void> {
  const next = queue.then(fn, fn);
  queue = next.catch(() => undefined);
  return next;
}

/** How far sliding-window attention drifts from dense: KL(dense ‖ sparse) of next-token distributions. */
async function compare(text: string, attention: Attention): Promise<void> {
  if (!model) throw new Error('no model loaded');
  const ids = model.tok.encode(text).slice(-model.gpt.maxLength);
  if (!ids.length) throw new Error('no tokens to compare');
  const V = model.gpt.config.vocab_size;
  const sparseSpec = spec({ ...attention, sparse: true });
  await model.gpt.forward(ids, { attention: sparseSpec }); // compile both plans before timing
  let t0 = performance.now();
  const dense = await model.gpt.forward(ids);
  const denseMs = performance.now() - t0;
  t0 = performance.now();
  const sparse = await model.gpt.forward(ids, { attention: sparseSpec });
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
  post({
    type: 'compare',
    kl: kls.reduce((a, b) => a + b, 0) / kls.length,
    klLast: kls[kls.length - 1],
    denseMs,
    sparseMs,
    tokens: ids.length,
  });
}

async function attention(text: string, layer: number, head: number): Promise<void> {
  if (!model) throw new Error('no model loaded');
  const ids = model.tok.encode(text).slice(-64);
  if (!ids.length) throw new Error('no tokens to show');
  const weights = await model.gpt.attentionWeights(ids, layer, head);
  post({ type: 'attention', tokens: ids.map((i) => model!.tok.decode([i])), weights, layer, head }, [weights.buffer]);
}

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.type === 'stop') {
    stopRequested = true;
    return;
  }
  // Anything that replaces the model ends a running generation first.
  if (m.type.startsWith('load') || m.type === 'set-weights') stopRequested = true;
  await exclusive(() => handle(m));
};

async function handle(m: ToWorker): Promise<void> {
  if (m.type === 'generate') stopRequested = false;
  try {
    if (m.type === 'load-default') {
      const res = await fetch(`${import.meta.env.BASE_URL}models/kjv-char-gpt.safetensors`);
      if (!res.ok) throw new Error(`could not fetch the default model: HTTP ${res.status}`);
      await load(new Uint8Array(await res.arrayBuffer()), 'KJV character GPT (default)', false);
    } else if (m.type === 'load-bytes') await load(m.bytes, m.name, m.gpt2);
    else if (m.type === 'load-url') await load(await fetchWithProgress(m.url), 'GPT-2 (124M)', true);
    else if (m.type === 'generate') await generate(m.prompt, m.sampling, m.attention);
    else if (m.type === 'compare') await compare(m.text, m.attention);
    else if (m.type === 'set-weights') {
      weights = m.weights;
      if (source) await load(source.bytes, source.name, source.gpt2);
    } else if (m.type === 'attention') await attention(m.text, m.layer, m.head);
  } catch (err) {
    post({ type: 'error', message: (err as Error).message, during: m.type });
  }
}
