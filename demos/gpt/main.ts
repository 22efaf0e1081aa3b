// "Small language models" page: the prompt, Generate and Stop first, the settings (lil-gui) beside them
// on a wide screen and closed below them on a phone. Streaming output with honest stats (time to first
// token, wall against GPU time, Stop and the context's cap said as they happened), the next-token
// candidates of every step, the prompt as tokens, a chat mode through the model's chat template, GPT-2
// (124M) from a URL, a local .gguf / .safetensors file or a Hugging Face model folder, and an attention
// map with every head of the layer beside it. The model lives in ./worker.ts.
import GUI, { type Controller, type OptionController, type StringController } from 'lil-gui';
import { createWorkerEngine } from 'webgpu-nlp';
import { $, checkWebGPU, collapseOnNarrow, formatBytes, pickFile, pickFolder, say } from '../common/page';
import {
  BUNDLED,
  type Bundled,
  type ChatTurn,
  type FromWorker,
  type GenerateRequest,
  type RequestName,
  type Step,
  WEIGHT_CHOICES,
  type WeightChoice,
  windowBlock,
} from './protocol';
import { drawAdapters, lowRankNote, sideBySide } from './lora';
import { recorded } from './recorded';
import {
  type AttentionMessage,
  drawCandidates,
  drawHeads,
  drawMap,
  drawTokens,
  labelledView,
  mapCaption,
  readable,
  type View,
  zoom,
} from './views';

const params = new URLSearchParams(location.search);
/** Candidates kept per step for the next-token view. */
const CANDIDATES = 8;
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
  /** The LoRA adapter the next generation uses ('': the base model). */
  adapter: '',
  adapterUrl: '',
  loadAdapterUrl: () => {
    if (!settings.adapterUrl) return say('Type the URL of a .gguf adapter or of a PEFT adapter folder first.', 'error');
    startAdapterLoad(`Loading the adapter at ${settings.adapterUrl}…`);
    send('load-adapter-url', { url: settings.adapterUrl });
  },
  loadAdapterFile: async () => {
    const f = await pickFile('.gguf');
    if (f) {
      startAdapterLoad(`Loading the adapter ${f.name}…`);
      send('load-adapter', { name: f.name.replace(/\.gguf$/i, ''), files: [f] }, [f.bytes.buffer]);
    }
  },
  loadAdapterFolder: async () => {
    const files = await pickFolder();
    if (files?.length) {
      const name = files[0].name.split('/')[0] || 'adapter';
      startAdapterLoad(`Loading the adapter ${name}…`);
      send(
        'load-adapter',
        { name, files },
        files.map((f) => f.bytes.buffer),
      );
    }
  },
  newChat: () => {
    turns.length = 0;
    stream.data = '';
    out.replaceChildren();
    clearResults();
    chatState();
    say('A fresh conversation: type the first message and press Generate.');
    requestTokens();
  },
  sparse: false,
  window: 64,
  compare: () =>
    send('compare', {
      text: prompt().value + stream.data,
      attention: { sparse: true, window: settings.window },
    }),
  url: 'https://huggingface.co/openai-community/gpt2/resolve/main/model.safetensors',
  clearCache: () => send('clear-cache', null),
  loadUrl: () => {
    setBusy('downloading');
    ($('download') as HTMLProgressElement).hidden = false;
    say(`Downloading ${settings.url.split('/').pop()} (GPT-2 124M is about 550 MB; Stop cancels)…`);
    send('load-url', { url: settings.url });
  },
  loadFile: async () => {
    const f = await pickFile('.gguf,.safetensors');
    if (f) {
      startLoading(`Loading ${f.name}…`);
      send('load-bytes', { file: f, gpt2: !/char/i.test(f.name) }, [f.bytes.buffer]);
    }
  },
  loadFolder: async () => {
    const files = await pickFolder();
    if (files?.length) {
      const name = files[0].name.split('/')[0] || 'model folder';
      startLoading(`Loading ${name} (${files.length} files)…`);
      send(
        'load-folder',
        { files, name },
        files.map((f) => f.bytes.buffer),
      );
    }
  },
};
/** The conversation so far in chat mode (the page keeps it; the worker renders it with the template). */
const turns: ChatTurn[] = [];
const prompt = () => $('prompt') as HTMLInputElement;
const out = $('output');
const stream = document.createTextNode('');

const gui = new GUI({ title: 'Settings', container: $('controls') });
const modelCtl = gui
  .add(settings, 'model', Object.fromEntries(Object.entries(BUNDLED).map(([k, v]) => [v, k])))
  .name('model')
  .onChange((m: Bundled) => {
    startLoading(`Loading ${BUNDLED[m]}…`);
    send('load-bundled', { model: m });
  });
(modelCtl as OptionController).$select.id = 'model';
const chatCtl = gui
  .add(settings, 'chat')
  .name("chat (the model's template)")
  .onChange(() => settings.newChat());
const newChatCtl = gui.add(settings, 'newChat').name('new conversation');
const gen = gui.addFolder('Generation');
const maxCtl = gen.add(settings, 'maxNewTokens', 1, 1024, 1).name('max tokens');
gen.add(settings, 'temperature', 0, 2, 0.05).onFinishChange(() => showStep());
gen.add(settings, 'topK', 0, 200, 1).name('top-k (0: off)');
gen.add(settings, 'topP', 0.05, 1, 0.01).name('top-p');
gen.add(settings, 'seed', 0, 10000, 1);
const modelFolder = gui.addFolder('Model');
/** Weights menu: '+ wte' (the token table too) only where the model can store it apart (GPT-2 layout). */
let weightsCtl: Controller = modelFolder.add(settings, 'weights', [...WEIGHT_CHOICES]);
function weightsMenu(separateTable: boolean): void {
  const choices = WEIGHT_CHOICES.filter((w) => separateTable || !w.endsWith('+ wte'));
  if (!choices.includes(settings.weights)) settings.weights = settings.weights.split(' ')[0] as WeightChoice;
  weightsCtl = (weightsCtl as OptionController)
    .options([...choices])
    .name('weights')
    .onChange((w: WeightChoice) => {
      startLoading(`Reloading with ${w} weights…`);
      send('set-weights', { weights: w });
    });
  (weightsCtl as OptionController).$select.id = 'weights';
  $('weights-note').textContent = separateTable
    ? '“+ wte”: the token table (the word-token embedding, which GPT-2 also uses as its output layer) is stored in that format too; without it, only the other matrices are.'
    : 'This model stores its token table like its other weights, so there is no separate “+ wte” choice.';
}
weightsMenu(true);
const sparseCtl = modelFolder
  .add(settings, 'sparse')
  .name('sliding-window attention')
  .onChange(() => windowChanged());
const windowCtl = modelFolder
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
const compareCtl = modelFolder.add(settings, 'compare').name('drift from dense (KL)');
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
const lora = gui.addFolder('LoRA adapter');
let adapterCtl: Controller = lora.add(settings, 'adapter', { 'base model (none)': '' }).name('adapter for Generate');
(adapterCtl as OptionController).$select.id = 'adapter';
const adapterUrlCtl = lora.add(settings, 'adapterUrl').name('adapter URL (.gguf or PEFT folder)');
(adapterUrlCtl as StringController).$input.id = 'adapter-url';
const adapterCtls = [
  lora.add(settings, 'loadAdapterUrl').name('load the adapter at the URL'),
  lora.add(settings, 'loadAdapterFolder').name('open a PEFT adapter folder…'),
  lora.add(settings, 'loadAdapterFile').name('open a .gguf adapter…'),
];
/** The adapter menu follows the adapters loaded (a name that went away falls back to the base). */
function adapterMenu(names: string[]): void {
  if (!names.includes(settings.adapter)) settings.adapter = '';
  adapterCtl = (adapterCtl as OptionController)
    .options({ 'base model (none)': '', ...Object.fromEntries(names.map((n) => [n, n])) })
    .name('adapter for Generate');
  (adapterCtl as OptionController).$select.id = 'adapter';
  adapterCtl.enable(state === 'idle');
}
function startAdapterLoad(text: string): void {
  say(text);
  setBusy('loading');
}
collapseOnNarrow(gui, 760);

/** The LoRA adapters loaded on the current model. */
let adapterNames: string[] = [];
/** Chat needs the model's chat template: off (and unticked) for a model without one. */
let chatAvailable = false;
let state: 'idle' | 'generating' | 'loading' | 'downloading' = 'loading';
/** Stop was pressed: focus goes back to Generate once the run has ended. */
let focusGenerate = false;

/**
 * While a generation or a reload runs, the controls that would change the model under it are off
 * (the worker would also queue them); Stop ends a generation after its current token.
 */
function setBusy(next: typeof state): void {
  const onStop = document.activeElement === $('stop'); // Stop is about to turn off: focus must not drop to the page
  state = next;
  const busy = state !== 'idle';
  for (const c of [modelCtl, weightsCtl, sparseCtl, windowCtl, compareCtl, newChatCtl, clearCtl, adapterCtl, ...loadCtls, ...adapterCtls])
    c.enable(!busy);
  ($('compare-adapters') as HTMLButtonElement).disabled = busy || !adapterNames.length;
  chatCtl.enable(!busy && chatAvailable);
  ($('generate') as HTMLButtonElement).disabled = busy;
  // Stop ends a generation after its token, or cancels a download.
  ($('stop') as HTMLButtonElement).disabled = state !== 'generating' && state !== 'downloading';
  document.body.dataset.busy = state;
  if (!busy) {
    if (focusGenerate || onStop) $('generate').focus();
    focusGenerate = false;
  }
}
$('stop').addEventListener('click', () => {
  focusGenerate = true;
  ($('stop') as HTMLButtonElement).disabled = true;
  running?.abort(); // the generation ends after its current token, a download at once
});

/** A new model (or weights) is on its way: what is shown belongs to the old one, so it is marked stale. */
function startLoading(text: string): void {
  say(text);
  setBusy('loading');
  markStale('from the previous model');
}

/** Marks the stats, the candidates and the attention map (or only `ids`) as belonging to an earlier text or model. */
function markStale(why: string, ids = ['stats', 'next', 'attention-section']): void {
  for (const id of ids) {
    const el = $(id);
    if (!el.textContent && id === 'stats') continue;
    el.classList.add('stale');
    el.dataset.stale = why;
  }
  const caption = $('attention-caption');
  if (caption.textContent && !caption.querySelector('.stale-badge'))
    caption.prepend(Object.assign(document.createElement('span'), { className: 'stale-badge', textContent: `updating (${why})` }));
}
function fresh(id: string): void {
  $(id).classList.remove('stale');
  delete $(id).dataset.stale;
}

/** Empties what an earlier generation left: stats, candidates, map. */
function clearResults(): void {
  $('stats').textContent = '';
  fresh('stats');
  steps.length = 0;
  ($('next') as HTMLElement).hidden = true;
  fresh('next');
}

/** The chat line under the prompt: which turn comes next. */
function chatState(): void {
  const users = turns.filter((t) => t.role === 'user').length;
  $('chat-state').textContent = settings.chat
    ? users
      ? `Conversation: ${users} message${users > 1 ? 's' : ''} so far. Type the next one, or start over from the settings.`
      : 'Chat mode: type the first message.'
    : '';
}

// ——— the worker ———
// The library's worker engine carries the requests (one at a time in the worker, in arrival order), their
// events and results, errors and Stop; the page's requests are the methods demos/gpt/worker.ts exposes.
const engine = createWorkerEngine(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' }));
/** What Stop cancels: the running generation, side-by-side comparison or download. */
let running: AbortController | null = null;
const STOPPABLE: RequestName[] = ['generate', 'compare-adapters', 'load-url'];
/** Requests that replace the model: they end a running generation first (the worker would queue them). */
const REPLACES: RequestName[] = ['load-bundled', 'load-bytes', 'load-folder', 'load-url', 'set-weights'];
function send(name: RequestName, args: unknown, transfer: Transferable[] = []): void {
  if (REPLACES.includes(name)) running?.abort();
  const ctrl = STOPPABLE.includes(name) ? new AbortController() : null;
  if (ctrl) running = ctrl;
  engine
    .call<FromWorker | null>(name, args, {
      transfer,
      signal: ctrl?.signal,
      settleInWorker: true, // a stopped run still reports what it did
      onProgress: (m) => onMessage(m as FromWorker),
    })
    .then(
      (m) => m && onMessage(m),
      (err: Error) => onError(err.message, name),
    )
    .finally(() => {
      if (running === ctrl) running = null;
    });
}

function requestAttention(): void {
  const t = prompt().value + stream.data;
  if (!t) return;
  markStale('for the latest text', ['attention-section']);
  send('attention', {
    text: t,
    chat: settings.chat && turns.length ? [...turns] : null,
    layer: settings.layer,
    head: settings.head,
    attention: { sparse: settings.sparse, window: settings.window },
    allHeads: true,
  });
}

/** The tokenizer view follows the prompt (in chat mode: the conversation with the typed message). */
let tokenTimer = 0;
function requestTokens(): void {
  clearTimeout(tokenTimer);
  tokenTimer = window.setTimeout(() => {
    if (document.body.dataset.ready !== 'true') return;
    const text = prompt().value;
    const chat = settings.chat && chatAvailable ? [...turns, { role: 'user' as const, content: text }] : null;
    send('tokenize', { text, chat });
  }, 150);
}
prompt().addEventListener('input', requestTokens);

// ——— next-token candidates ———
const steps: Step[] = [];
const stepInput = $('step') as HTMLInputElement;
let followLatest = true;
stepInput.addEventListener('input', () => {
  followLatest = Number(stepInput.value) === steps.length - 1;
  showStep();
});
/** Shows one step's candidates (the latest while tokens stream, unless the slider moved back). */
function showStep(): void {
  if (!steps.length) return;
  ($('next') as HTMLElement).hidden = false;
  stepInput.max = String(steps.length - 1);
  if (followLatest) stepInput.value = String(steps.length - 1);
  const i = Number(stepInput.value);
  const step = steps[i];
  drawCandidates($('candidates') as HTMLTableElement, step);
  const chosen = step.candidates.find((c) => c.id === step.chosen);
  $('step-label').textContent = `${i + 1} of ${steps.length}`;
  const s = generation;
  const cut = s
    ? s.temperature > 0
      ? `Light bars: softmax(logits / ${s.temperature}). Dark bars: what top-k ${s.topK || 'off'} and top-p ${s.topP} leave, renormalised: the draw picks from those.`
      : 'Temperature 0 is greedy: light bars are the model’s distribution at temperature 1, and the likeliest token is always taken.'
    : '';
  const rank = chosen
    ? ''
    : `, id ${step.chosen}: not among the ${step.candidates.length} likeliest, the draw can pick any token the cut keeps`;
  $('next-caption').textContent = `Token ${i + 1}: the model drew “${readable(step.text)}”${rank}. ${cut}`;
  $('next').dataset.steps = String(steps.length);
}
/** The sampling settings of the generation the candidates belong to. */
let generation: { temperature: number; topK: number; topP: number } | null = null;

// ——— attention map ———
let heads = { heads: 1, kvHeads: 1, layers: 1 };
let shown: AttentionMessage | null = null;
let view: View = { q0: 0, k0: 0, n: 1 };
let geom = { cell: 1, left: 0, top: 0 };
const canvas = $('attention') as HTMLCanvasElement;

function redraw(): void {
  if (!shown) return;
  geom = drawMap(canvas, shown, view);
  canvas.dataset.drawn = 'true';
  const caption =
    mapCaption(shown, heads, view) +
    (usedAdapter ? ` This is the base model's attention: the map does not apply the adapter ${usedAdapter}.` : '');
  $('attention-caption').textContent = caption;
  canvas.setAttribute('aria-label', `Attention map, ${caption}`);
  canvas.dataset.masked = String(
    shown.mask
      ? shown.mask.reduce((n, v, i) => n + (v === 0 && i % shown!.tokens.length <= Math.floor(i / shown!.tokens.length) ? 1 : 0), 0)
      : 0,
  );
  $('zoom-label').textContent = view.n < shown.tokens.length ? `${view.n} of ${shown.tokens.length} tokens` : `all ${view.n} tokens`;
}
function setView(v: View): void {
  view = v;
  redraw();
}
const tokensShown = () => shown?.tokens.length ?? 1;
$('zoom-in').addEventListener('click', () => setView(zoom(view, tokensShown(), 0.5)));
$('zoom-out').addEventListener('click', () => setView(zoom(view, tokensShown(), 2)));
$('zoom-reset').addEventListener('click', () => setView({ q0: 0, k0: 0, n: tokensShown() }));
canvas.addEventListener(
  'wheel',
  (e) => {
    if (!shown) return;
    e.preventDefault();
    const r = canvas.getBoundingClientRect();
    const k = view.k0 + (e.clientX - r.left - geom.left) / geom.cell;
    const q = view.q0 + (e.clientY - r.top - geom.top) / geom.cell;
    setView(zoom(view, tokensShown(), e.deltaY < 0 ? 0.7 : 1 / 0.7, q, k));
  },
  { passive: false },
);
canvas.addEventListener('keydown', (e) => {
  const T = tokensShown();
  const step = Math.max(1, Math.round(view.n / 4));
  const move = (dq: number, dk: number) => {
    e.preventDefault();
    const clamp = (x: number) => Math.max(0, Math.min(T - view.n, x));
    setView({ n: view.n, q0: clamp(view.q0 + dq), k0: clamp(view.k0 + dk) });
  };
  if (e.key === '+' || e.key === '=') setView(zoom(view, T, 0.5));
  else if (e.key === '-') setView(zoom(view, T, 2));
  else if (e.key === 'ArrowUp') move(-step, 0);
  else if (e.key === 'ArrowDown') move(step, 0);
  else if (e.key === 'ArrowLeft') move(0, -step);
  else if (e.key === 'ArrowRight') move(0, step);
});
new ResizeObserver(() => redraw()).observe(canvas.parentElement!);

const tooltip = $('tooltip');
canvas.addEventListener('mousemove', (e) => {
  if (!shown) return;
  const r = canvas.getBoundingClientRect();
  const k = view.k0 + Math.floor((e.clientX - r.left - geom.left) / geom.cell);
  const q = view.q0 + Math.floor((e.clientY - r.top - geom.top) / geom.cell);
  const T = shown.tokens.length;
  const inside = q >= view.q0 && q < Math.min(T, view.q0 + view.n) && k >= view.k0 && k <= q && k < view.k0 + view.n;
  tooltip.style.display = inside ? 'block' : 'none';
  if (!inside) return;
  const hidden = shown.mask && !shown.mask[q * T + k];
  tooltip.textContent = `query ${q} ${JSON.stringify(shown.tokens[q])} → key ${k} ${JSON.stringify(shown.tokens[k])}: ${hidden ? 'outside the window' : shown.weights[q * T + k].toFixed(3)}`;
  tooltip.style.left = `${e.clientX + 12}px`;
  tooltip.style.top = `${e.clientY + 12}px`;
});
canvas.addEventListener('mouseleave', () => (tooltip.style.display = 'none'));

function drawAttention(m: AttentionMessage): void {
  const sameText = shown && shown.tokens.length === m.tokens.length && shown.tokens[0] === m.tokens[0];
  shown = m;
  // A new text starts on the view that labels its newest tokens; a new head or layer keeps the zoom.
  if (!sameText) view = labelledView(m.tokens.length, canvas.parentElement?.clientWidth || 360);
  redraw();
  drawHeads($('heads'), m, (h) => {
    settings.head = h;
    headCtl.updateDisplay();
    requestAttention();
  });
  fresh('attention-section');
}

/** What a KL divergence between dense and sliding-window next-token distributions means in practice. */
function klMeaning(kl: number): string {
  if (kl < 1e-3) return 'practically the same predictions';
  if (kl < 0.05) return 'small: the likeliest tokens keep their order, sampled text rarely changes';
  if (kl < 0.5) return 'noticeable: probabilities shift enough that sampled text often differs';
  return 'large: the window hides context the model relies on, and it predicts differently';
}

const seconds = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`);

/**
 * The stats of a finished generation, each said as it happened: how it ended (Stop, end of turn, the
 * count asked, or the context's cap), time to first token, and wall time against the GPU's.
 */
function doneStats(m: Extract<FromWorker, { type: 'done' }>, tokensPerSecond: number): string {
  const cap = Math.min(m.requested, m.room);
  const ended = m.stopped
    ? `stopped by you after ${m.count} of ${cap} tokens`
    : m.reason === 'stop'
      ? `end of turn after ${m.count} tokens`
      : m.room < m.requested
        ? `${m.count} tokens: capped at ${m.room} (you asked ${m.requested}), because the prompt's ${m.promptTokens} tokens and the output fill the model's context`
        : `${m.count} tokens, as asked`;
  const gpu = m.prefillMs + m.decodeMs;
  const speed = m.count > 1 ? ` · ${tokensPerSecond.toFixed(1)} tokens/s while decoding` : '';
  const compiling = m.compileMs >= 1 ? ` (compiling kernels ${seconds(m.compileMs)})` : '';
  const rest = Math.max(0, m.wallMs - gpu - m.compileMs);
  return (
    `${ended} · time to first token ${seconds(m.firstTokenMs)}${compiling} · wall ${seconds(m.wallMs)}: GPU runs ${seconds(gpu)} ` +
    `(prefill ${seconds(m.prefillMs)}, ${Math.max(0, m.count - 1)} decode steps ${seconds(m.decodeMs)})` +
    `${m.compileMs >= 1 ? `, compiling ${seconds(m.compileMs)}` : ''}, the page and the CPU ${seconds(rest)}${speed}`
  );
}
let lastSpeed = 0;

function onMessage(m: FromWorker): void {
  if (m.type === 'loaded') {
    const gqa = m.info.kvHeads < m.info.heads ? ` on ${m.info.kvHeads} KV heads` : '';
    say(
      `${m.info.name} (${m.info.arch}): ${m.info.layers} layers × ${m.info.heads} heads${gqa}, vocabulary ${m.info.vocab}, ${m.info.weights} weights ${formatBytes(m.info.weightBytes)}, on ${m.info.adapter}.`,
    );
    // Chat follows the model: only with a chat template; a model without one ends a conversation.
    chatAvailable = m.info.chat;
    if (!m.info.chat && settings.chat) {
      settings.chat = false;
      chatCtl.updateDisplay();
      turns.length = 0;
      out.replaceChildren();
      chatState();
    }
    document.body.dataset.chat = String(m.info.chat);
    weightsMenu(m.info.separateTable);
    $('memory').textContent = `GPU memory in use: ${formatBytes(m.info.gpuBytes)}`;
    $('memory').dataset.bytes = String(m.info.gpuBytes);
    layerCtl.max(m.info.layers - 1);
    if (settings.layer > m.info.layers - 1) layerCtl.setValue(m.info.layers - 1);
    // No more new tokens than the model holds positions (the prompt takes some too: see the stats).
    maxCtl.max(m.info.context - 1);
    if (settings.maxNewTokens > m.info.context - 1) maxCtl.setValue(m.info.context - 1);
    headCtl.max(m.info.heads - 1);
    if (settings.head > m.info.heads - 1) headCtl.setValue(m.info.heads - 1);
    heads = { heads: m.info.heads, kvHeads: m.info.kvHeads, layers: m.info.layers };
    ($('download') as HTMLProgressElement).hidden = true;
    // What the earlier model produced no longer describes this one.
    clearResults();
    setBusy('idle');
    document.body.dataset.ready = 'true';
    requestTokens();
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
  } else if (m.type === 'phase') {
    $('phase').textContent = m.text;
    document.body.dataset.phase = 'compiling';
  } else if (m.type === 'token') {
    $('phase').textContent = '';
    delete document.body.dataset.phase;
    stream.data += m.text;
    lastSpeed = m.tokensPerSecond;
    $('stats').textContent =
      `${m.count} tokens${m.count > 1 ? ` · ${m.msPerToken.toFixed(1)} ms/token · ${m.tokensPerSecond.toFixed(1)} tokens/s` : ''}`;
    fresh('stats');
    out.dataset.tokens = String(m.count);
    steps.push(...m.steps);
    showStep();
    fresh('next');
  } else if (m.type === 'done') {
    $('phase').textContent = '';
    $('stats').textContent = doneStats(m, lastSpeed) + (usedAdapter ? ` · with the LoRA adapter ${usedAdapter}` : '');
    fresh('stats');
    if (settings.chat) turns.push({ role: 'assistant', content: stream.data });
    out.dataset.tokens = String(m.count); // the last token may have finished a character held back
    if ($('message').className === 'error') say('Ready.'); // a stale error goes with the next success
    if (settings.chat) say(`The model answered (turn ${turns.length / 2}). Type your reply, or start over from the settings.`);
    setBusy('idle');
    document.body.dataset.state = m.stopped ? 'stopped' : 'done';
    chatState();
    requestAttention();
    requestTokens();
  } else if (m.type === 'compare') {
    $('stats').textContent =
      `Sliding window of ${settings.window} tokens vs dense over ${m.tokens} tokens: mean KL(dense ‖ sparse) ${m.kl.toExponential(2)} nats, ${klMeaning(m.kl)} (last position ${m.klLast.toExponential(2)}); forward ${m.sparseMs.toFixed(1)} ms sparse vs ${m.denseMs.toFixed(1)} ms dense.${m.tokens <= settings.window ? ' The text fits in the window, so nothing is hidden yet: generate more, or shrink the window.' : ''}`;
    document.body.dataset.compare = 'done';
  } else if (m.type === 'attention') {
    drawAttention(m);
    document.body.dataset.attention = 'drawn';
  } else if (m.type === 'adapters') {
    adapterNames = m.list.map((a) => a.name);
    adapterMenu(adapterNames);
    ($('lora') as HTMLElement).hidden = !m.list.length;
    drawAdapters($('adapters') as HTMLTableElement, m.list, m.baseBytes);
    $('lora-note').textContent = lowRankNote(m.list, m.hidden);
    $('lora').dataset.adapters = adapterNames.join(' ');
    if (state === 'loading' && document.body.dataset.ready === 'true') {
      setBusy('idle');
      if (m.list.length)
        say(`LoRA adapters loaded: ${adapterNames.join(', ')}. Pick one for Generate in the settings, or compare them side by side.`);
    }
  } else if (m.type === 'adapter-text') {
    const col = $('side-by-side').querySelector(`figure[data-index="${m.index}"] pre`);
    if (col) col.textContent = m.text || '(nothing yet)';
    if (m.final) {
      setBusy('idle');
      document.body.dataset.lora = m.stopped ? 'stopped' : 'done';
    }
  } else if (m.type === 'tokens') {
    drawTokens($('tokens'), m.pieces);
    $('tokens').dataset.count = String(m.pieces.length);
    $('tokens-title').textContent = m.chat ? 'The conversation as tokens (chat template included)' : 'The prompt as tokens';
  }
}

/** A request failed: `during` names it. */
function onError(message: string, during: RequestName): void {
  ($('download') as HTMLProgressElement).hidden = true;
  $('phase').textContent = '';
  if (during !== 'attention' && during !== 'compare' && during !== 'tokenize') setBusy('idle');
  say(
    during.startsWith('load-adapter')
      ? `Could not load that adapter (${message}); the model and its other adapters are unchanged.`
      : during.startsWith('load') && document.body.dataset.ready === 'true'
        ? `Could not load that model (${message}); still using the previous one.`
        : message,
    'error',
  );
  if (during === 'generate') {
    // The unanswered message leaves the conversation, and back into the input to try again.
    if (settings.chat && turns.at(-1)?.role === 'user') prompt().value = turns.pop()!.content;
    out.replaceChildren(...turns.map((t) => line(`turn ${t.role}`, t.content)));
    chatState();
    document.body.dataset.state = 'error';
  }
  if (during === 'attention') fresh('attention-section');
}

const line = (className: string, text: string) => Object.assign(document.createElement('div'), { className, textContent: text });

$('form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (state !== 'idle') return; // a second click while one runs starts nothing
  setBusy('generating');
  document.body.dataset.state = 'generating';
  const text = prompt().value;
  const chat = settings.chat && chatAvailable;
  if (chat) {
    // The conversation so far, the new user turn, then the assistant's reply as it streams.
    turns.push({ role: 'user', content: text });
    const reply = document.createElement('div');
    reply.className = 'turn assistant';
    stream.data = '';
    reply.append(stream);
    out.replaceChildren(...turns.map((t) => line(`turn ${t.role}`, t.content)), reply);
    prompt().value = ''; // sent: the input is free for the next message
    say(`Sent message ${turns.filter((t) => t.role === 'user').length}; the model is answering…`);
  } else {
    stream.data = '';
    out.replaceChildren(Object.assign(document.createElement('span'), { className: 'prompt', textContent: text }), stream);
  }
  out.dataset.tokens = '0';
  markStale('for the previous text');
  steps.length = 0;
  followLatest = true;
  const { maxNewTokens, temperature, topK, topP, seed } = settings;
  generation = { temperature, topK, topP };
  send('generate', {
    prompt: text,
    chat: chat ? [...turns] : null,
    sampling: { maxNewTokens, temperature, topK, topP, seed },
    attention: { sparse: settings.sparse, window: settings.window },
    candidates: CANDIDATES,
    adapter: settings.adapter || null,
  } satisfies GenerateRequest);
  usedAdapter = settings.adapter || null;
});

/** The adapter of the last generation (the attention map is the base model's: it says so). */
let usedAdapter: string | null = null;

$('compare-adapters').addEventListener('click', () => {
  if (state !== 'idle') return;
  const names = [null, ...adapterNames];
  sideBySide($('side-by-side'), names);
  setBusy('generating');
  document.body.dataset.lora = 'running';
  const { maxNewTokens, temperature, topK, topP, seed } = settings;
  say(
    `The same prompt under ${names.length} variants, ${Math.min(settings.maxNewTokens, 40)} tokens each, one after another (Stop ends it)…`,
  );
  send('compare-adapters', {
    prompt: prompt().value,
    sampling: { maxNewTokens: Math.min(maxNewTokens, 40), temperature, topK, topP, seed },
    adapters: names,
  });
});

if (await checkWebGPU({ recorded })) {
  send('load-bundled', { model: settings.model });
  send('cache-info', null);
} else {
  // The panel looks as off as it is.
  for (const c of gui.controllersRecursive()) c.disable();
}
