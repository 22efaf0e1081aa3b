// "Small language models" page: a model picker (a tiny Llama and a character GPT, bundled), controls
// (lil-gui), streaming output with tokens/s and ms per token, a chat mode through the model's chat
// template, GPT-2 (124M) from a URL with a download bar, a local .gguf / .safetensors file or a
// Hugging Face model folder, and an attention heatmap. The model lives in ./worker.ts.
import GUI, { type OptionController, type StringController } from 'lil-gui';
import { $, checkWebGPU, formatBytes, pickFile, pickFolder, say } from '../common/page';
import {
  BUNDLED,
  type Bundled,
  type ChatTurn,
  type FromWorker,
  type ToWorker,
  WEIGHT_CHOICES,
  type WeightChoice,
  windowBlock,
} from './protocol';

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (m: ToWorker, transfer: Transferable[] = []) => worker.postMessage(m, transfer);

const params = new URLSearchParams(location.search);
const settings = {
  maxNewTokens: Number(params.get('tokens') ?? 120),
  temperature: 0.8,
  topK: 40,
  topP: 0.95,
  seed: 1,
  layer: 0,
  head: 0,
  weights: 'f32' as WeightChoice,
  model: 'kjv-llama' as Bundled,
  chat: false,
  newChat: () => {
    turns.length = 0;
    stream.data = '';
    out.replaceChildren();
    say('New conversation.');
  },
  sparse: false,
  window: 64,
  compare: () =>
    send({
      type: 'compare',
      text: ($('prompt') as HTMLInputElement).value + stream.data,
      attention: { sparse: true, window: settings.window },
    }),
  url: 'https://huggingface.co/openai-community/gpt2/resolve/main/model.safetensors',
  clearCache: () => send({ type: 'clear-cache' }),
  loadUrl: () => {
    setBusy('downloading');
    ($('download') as HTMLProgressElement).hidden = false;
    say(`Downloading ${settings.url.split('/').pop()} (GPT-2 124M is about 550 MB; Stop cancels)…`);
    send({ type: 'load-url', url: settings.url });
  },
  loadFile: async () => {
    const f = await pickFile('.gguf,.safetensors');
    if (f) {
      setBusy('loading');
      say(`Loading ${f.name}…`);
      send({ type: 'load-bytes', file: f, gpt2: !/char/i.test(f.name) }, [f.bytes.buffer]);
    }
  },
  loadFolder: async () => {
    const files = await pickFolder();
    if (files?.length) {
      setBusy('loading');
      const name = files[0].name.split('/')[0] || 'model folder';
      say(`Loading ${name} (${files.length} files)…`);
      send(
        { type: 'load-folder', files, name },
        files.map((f) => f.bytes.buffer),
      );
    }
  },
};
/** The conversation so far in chat mode (the page keeps it; the worker renders it with the template). */
const turns: ChatTurn[] = [];
const gui = new GUI({ title: 'Small language models', container: $('controls') });
const modelCtl = gui
  .add(settings, 'model', Object.fromEntries(Object.entries(BUNDLED).map(([k, v]) => [v, k])))
  .name('model')
  .onChange((m: Bundled) => {
    say(`Loading ${BUNDLED[m]}…`);
    setBusy('loading');
    send({ type: 'load-bundled', model: m });
  });
(modelCtl as OptionController).$select.id = 'model';
const chatCtl = gui
  .add(settings, 'chat')
  .name("chat (the model's template)")
  .onChange(() => settings.newChat());
const newChatCtl = gui.add(settings, 'newChat').name('new conversation');
const gen = gui.addFolder('Generation');
const maxCtl = gen.add(settings, 'maxNewTokens', 1, 1024, 1).name('max tokens');
gen.add(settings, 'temperature', 0, 2, 0.05);
gen.add(settings, 'topK', 0, 200, 1).name('top-k (0: off)');
gen.add(settings, 'topP', 0.05, 1, 0.01).name('top-p');
gen.add(settings, 'seed', 0, 10000, 1);
const model = gui.addFolder('Model');
const weightsCtl = model
  .add(settings, 'weights', [...WEIGHT_CHOICES])
  .name('weights')
  .onChange((w: WeightChoice) => {
    say(`Reloading with ${w} weights…`);
    setBusy('loading');
    send({ type: 'set-weights', weights: w });
  });
(weightsCtl as OptionController).$select.id = 'weights';
const sparseCtl = model
  .add(settings, 'sparse')
  .name('sliding-window attention')
  .onChange(() => windowChanged());
const windowCtl = model
  .add(settings, 'window', 8, 512, 8)
  .name('window (tokens)')
  .onFinishChange(() => settings.sparse && windowChanged());
/** Says what the window does now, and redraws the attention map with its mask. */
function windowChanged(): void {
  say(
    settings.sparse
      ? `Sliding-window attention on: each token attends to about the last ${settings.window} tokens (in blocks of ${windowBlock(settings.window)}). The next generation uses it; the map below hatches the keys it hides. “drift from dense” measures what it costs.`
      : 'Dense attention: every token attends to all earlier tokens again.',
  );
  document.body.dataset.sparse = String(settings.sparse);
  requestAttention();
}
const compareCtl = model.add(settings, 'compare').name('drift from dense (KL)');
const att = gui.addFolder('Attention map');
const layerCtl = att.add(settings, 'layer', 0, 3, 1).onFinishChange(() => requestAttention());
const headCtl = att.add(settings, 'head', 0, 3, 1).onFinishChange(() => requestAttention());
const load = gui.addFolder('Load a model');
const urlCtl = load.add(settings, 'url').name('URL (.safetensors)');
(urlCtl as StringController).$input.id = 'url';
const loadCtls = [
  load.add(settings, 'loadUrl').name('download GPT-2 (124M)'),
  load.add(settings, 'loadFile').name('open a .gguf or .safetensors…'),
  load.add(settings, 'loadFolder').name('open a model folder…'),
];
const clearCtl = load.add(settings, 'clearCache').name('clear downloaded models');

/**
 * While a generation or a reload runs, the controls that would change the model under it are off
 * (the worker would also queue them); Stop ends a generation after its current token.
 */
function setBusy(state: 'idle' | 'generating' | 'loading' | 'downloading'): void {
  const busy = state !== 'idle';
  for (const c of [modelCtl, weightsCtl, sparseCtl, windowCtl, compareCtl, chatCtl, newChatCtl, clearCtl, ...loadCtls]) c.enable(!busy);
  ($('generate') as HTMLButtonElement).disabled = busy;
  // Stop ends a generation after its token, or cancels a download.
  ($('stop') as HTMLButtonElement).disabled = state !== 'generating' && state !== 'downloading';
}
$('stop').addEventListener('click', () => {
  ($('stop') as HTMLButtonElement).disabled = true;
  send({ type: 'stop' });
});

const out = $('output');
const stream = document.createTextNode('');

function requestAttention(): void {
  const t = ($('prompt') as HTMLInputElement).value + stream.data;
  if (t)
    send({
      type: 'attention',
      text: t,
      chat: settings.chat && turns.length ? [...turns] : null,
      layer: settings.layer,
      head: settings.head,
      attention: { sparse: settings.sparse, window: settings.window },
    });
}

let heads = { heads: 1, kvHeads: 1, layers: 1 };
let map: { tokens: string[]; w: Float32Array; mask: Uint8Array | null; cell: number; left: number; top: number } | null = null;

/**
 * One head's attention as a heatmap: row = query token, column = key token, darker = more weight
 * (√ scale, so small weights stay visible). Under a sliding window the keys the window hides are
 * hatched grey: the lesson of sparse attention drawn on the map itself.
 */
function drawAttention(m: Extract<FromWorker, { type: 'attention' }>): void {
  const canvas = $('attention') as HTMLCanvasElement;
  canvas.dataset.drawn = 'true'; // shown from the first drawing on
  const { tokens, weights: w, mask } = m;
  const T = tokens.length;
  const W = canvas.clientWidth || 360;
  // Token names beside the rows only where a cell is tall enough to carry one.
  const named = Math.floor((Math.min(W, 900) - 70) / T) >= 7;
  const left = named ? 70 : 4;
  const top = named ? 70 : 4;
  const cell = Math.max(1, Math.floor((Math.min(W, 900) - left) / T));
  canvas.width = W;
  canvas.height = top + cell * T + 4;
  const ctx = canvas.getContext('2d')!;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const gap = cell > 3 ? 1 : 0;
  for (let q = 0; q < T; q++) {
    for (let k = 0; k <= q; k++) {
      const x = left + k * cell;
      const y = top + q * cell;
      if (mask && !mask[q * T + k]) {
        ctx.fillStyle = 'rgba(136, 136, 136, 0.35)';
        ctx.fillRect(x, y, cell - gap, cell - gap);
        if (cell >= 5) {
          ctx.strokeStyle = 'rgba(136, 136, 136, 0.8)';
          ctx.beginPath();
          ctx.moveTo(x, y + cell - gap);
          ctx.lineTo(x + cell - gap, y);
          ctx.stroke();
        }
        continue;
      }
      ctx.fillStyle = `rgba(42, 119, 170, ${Math.sqrt(w[q * T + k])})`;
      ctx.fillRect(x, y, cell - gap, cell - gap);
    }
  }
  if (named) {
    ctx.font = '10px ui-monospace, monospace';
    ctx.fillStyle = getComputedStyle(document.body).color || '#222';
    for (let q = 0; q < T; q++) {
      const name = JSON.stringify(tokens[q]).slice(1, -1).slice(0, 10);
      ctx.fillText(name, 2, top + q * cell + cell - 1);
      ctx.save();
      ctx.translate(left + q * cell + cell - 2, top - 4);
      ctx.rotate(-Math.PI / 2);
      ctx.fillText(name, 0, 0);
      ctx.restore();
    }
  }
  map = { tokens, w, mask, cell, left, top };
  Object.assign(canvas.dataset, { cell: String(cell), left: String(left), top: String(top) });
  const group = heads.heads / heads.kvHeads;
  const kv =
    group > 1
      ? ` (it reads KV head ${Math.floor(m.head / group)}: grouped-query attention shares each KV head among ${group} query heads)`
      : '';
  const cut = m.total > T ? ` the last ${T} of the text's ${m.total} tokens,` : ` ${T} tokens,`;
  const sparse = mask
    ? ` Sliding window of ${m.window} tokens: hatched cells are keys the window hides (in whole blocks of ${windowBlock(m.window ?? 0)} tokens, so a little more than the window is seen); each row's weights are renormalised over what it sees.`
    : ' Dense causal attention: every query sees every earlier token.';
  $('attention-caption').textContent =
    `Layer ${m.layer} of ${heads.layers}, head ${m.head} of ${heads.heads}${kv};${cut} row = query, column = key.${sparse}`;
  canvas.setAttribute('aria-label', `Attention map, ${$('attention-caption').textContent}`);
  canvas.dataset.tokens = String(T);
  canvas.dataset.first = tokens[0];
  canvas.dataset.masked = String(mask ? mask.reduce((n, v, i) => n + (v === 0 && i % T <= Math.floor(i / T) ? 1 : 0), 0) : 0);
}

const tooltip = $('tooltip');
($('attention') as HTMLCanvasElement).addEventListener('mousemove', (e) => {
  if (!map) return;
  const r = (e.target as HTMLCanvasElement).getBoundingClientRect();
  const k = Math.floor((e.clientX - r.left - map.left) / map.cell);
  const q = Math.floor((e.clientY - r.top - map.top) / map.cell);
  const T = map.tokens.length;
  const inside = q >= 0 && q < T && k >= 0 && k <= q;
  tooltip.style.display = inside ? 'block' : 'none';
  if (!inside) return;
  const hidden = map.mask && !map.mask[q * T + k];
  tooltip.textContent = `query ${q} ${JSON.stringify(map.tokens[q])} → key ${k} ${JSON.stringify(map.tokens[k])}: ${hidden ? 'outside the window' : map.w[q * T + k].toFixed(3)}`;
  tooltip.style.left = `${e.clientX + 12}px`;
  tooltip.style.top = `${e.clientY + 12}px`;
});
$('attention').addEventListener('mouseleave', () => (tooltip.style.display = 'none'));

/** What a KL divergence between dense and sliding-window next-token distributions means in practice. */
function klMeaning(kl: number): string {
  if (kl < 1e-3) return 'practically the same predictions';
  if (kl < 0.05) return 'small: the likeliest tokens keep their order, sampled text rarely changes';
  if (kl < 0.5) return 'noticeable: probabilities shift enough that sampled text often differs';
  return 'large: the window hides context the model relies on, and it predicts differently';
}

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  if (m.type === 'loaded') {
    const gqa = m.info.kvHeads < m.info.heads ? ` on ${m.info.kvHeads} KV heads` : '';
    say(
      `${m.info.name} (${m.info.arch}): ${m.info.layers} layers × ${m.info.heads} heads${gqa}, vocabulary ${m.info.vocab}, ${m.info.weights} weights ${formatBytes(m.info.weightBytes)}, on ${m.info.adapter}.`,
    );
    // Chat needs the model's template; without one the page continues text.
    chatCtl.enable(m.info.chat);
    if (!m.info.chat && settings.chat) chatCtl.setValue(false);
    document.body.dataset.chat = String(m.info.chat);
    $('memory').textContent = `GPU memory in use: ${formatBytes(m.info.gpuBytes)}`;
    $('memory').dataset.bytes = String(m.info.gpuBytes);
    layerCtl.max(m.info.layers - 1);
    // No more new tokens than the model holds positions (the prompt takes some too: see the stats).
    maxCtl.max(m.info.context - 1);
    if (settings.maxNewTokens > m.info.context - 1) maxCtl.setValue(m.info.context - 1);
    headCtl.max(m.info.heads - 1);
    heads = { heads: m.info.heads, kvHeads: m.info.kvHeads, layers: m.info.layers };
    ($('download') as HTMLProgressElement).hidden = true;
    setBusy('idle');
    document.body.dataset.ready = 'true';
  } else if (m.type === 'cache') {
    $('cache').textContent = m.files
      ? `Downloaded models kept in this browser: ${m.files} (${formatBytes(m.bytes)})${m.fromCache ? ' · loaded from the cache, no download' : ''}`
      : 'No downloaded models kept in this browser.';
    $('cache').dataset.files = String(m.files);
    document.body.dataset.cache = m.fromCache ? 'hit' : 'stored';
  } else if (m.type === 'progress') {
    const bar = $('download') as HTMLProgressElement;
    bar.max = m.total || m.loaded;
    bar.value = m.loaded;
    say(`Downloading: ${formatBytes(m.loaded)}${m.total ? ` of ${formatBytes(m.total)}` : ''}`);
  } else if (m.type === 'token') {
    stream.data += m.text;
    $('stats').textContent = `${m.count} tokens · ${m.msPerToken.toFixed(1)} ms/token · ${m.tokensPerSecond.toFixed(1)} tokens/s`;
    out.dataset.tokens = String(m.count);
  } else if (m.type === 'done') {
    const capped =
      m.cappedAt !== undefined ? ` · capped at ${m.cappedAt} new tokens: the prompt and the output fill the model's context` : '';
    $('stats').textContent +=
      ` · prefill ${m.prefillMs.toFixed(0)} ms${m.stopped ? ' · stopped' : m.reason === 'stop' ? ' · end of turn' : ''}${capped}`;
    if (settings.chat) turns.push({ role: 'assistant', content: stream.data });
    out.dataset.tokens = String(m.count); // the last token may have finished a character held back
    if ($('message').className === 'error') say('Ready.'); // a stale error goes with the next success
    setBusy('idle');
    document.body.dataset.state = m.stopped ? 'stopped' : 'done';
    requestAttention();
  } else if (m.type === 'compare') {
    $('stats').textContent =
      `Sliding window of ${settings.window} tokens vs dense over ${m.tokens} tokens: mean KL(dense ‖ sparse) ${m.kl.toExponential(2)} nats, ${klMeaning(m.kl)} (last position ${m.klLast.toExponential(2)}); forward ${m.sparseMs.toFixed(1)} ms sparse vs ${m.denseMs.toFixed(1)} ms dense.${m.tokens <= settings.window ? ' The text fits in the window, so nothing is hidden yet: generate more, or shrink the window.' : ''}`;
    document.body.dataset.compare = 'done';
  } else if (m.type === 'attention') {
    drawAttention(m);
    document.body.dataset.attention = 'drawn';
  } else if (m.type === 'error') {
    ($('download') as HTMLProgressElement).hidden = true;
    if (m.during !== 'attention' && m.during !== 'compare') setBusy('idle');
    say(
      m.during.startsWith('load') && document.body.dataset.ready === 'true'
        ? `Could not load that model (${m.message}); still using the previous one.`
        : m.message,
      'error',
    );
    if (m.during === 'generate') document.body.dataset.state = 'error';
  }
};

$('form').addEventListener('submit', (e) => {
  e.preventDefault();
  setBusy('generating');
  document.body.dataset.state = 'generating';
  const prompt = ($('prompt') as HTMLInputElement).value;
  const line = (className: string, text: string) => Object.assign(document.createElement('div'), { className, textContent: text });
  if (settings.chat) {
    // The conversation so far, the new user turn, then the assistant's reply as it streams.
    turns.push({ role: 'user', content: prompt });
    const reply = document.createElement('div');
    reply.className = 'turn assistant';
    stream.data = '';
    reply.append(stream);
    out.replaceChildren(...turns.map((t) => line(`turn ${t.role}`, t.content)), reply);
  } else {
    stream.data = '';
    out.replaceChildren(Object.assign(document.createElement('span'), { className: 'prompt', textContent: prompt }), stream);
  }
  const { maxNewTokens, temperature, topK, topP, seed } = settings;
  send({
    type: 'generate',
    prompt,
    chat: settings.chat ? [...turns] : null,
    sampling: { maxNewTokens, temperature, topK, topP, seed },
    attention: { sparse: settings.sparse, window: settings.window },
  });
});

if (await checkWebGPU()) {
  send({ type: 'load-bundled', model: settings.model });
  send({ type: 'cache-info' });
}
