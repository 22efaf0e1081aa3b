// The BERT page: fill-mask with probability bars, the attention of every layer and head, semantic search
// over the KJV verses (embedded on the GPU with progress and Stop), a sentence-similarity heatmap, and
// the heads a model carries (classification, next sentence, NER spans, extractive QA). The bundled
// model is a sentence-transformers folder (tools/train_bert.py); others load from a folder, a URL (kept
// in Cache Storage) or the cache, all through the library's loadModel. The encoder and its tokenizer
// run in ./worker.ts, through the library's worker engine (createWorkerEngine / exposeEngine): the page
// sends text and draws what comes back; one job runs at a time.
import GUI from 'lil-gui';
import { type CallOptions, type ModelSource, createWorkerEngine } from 'webgpu-nlp';
import { $, checkWebGPU, formatBytes, pickFolder, say } from '../common/page';
import recordedRun from './recorded.json';
import type { AttentionResult, BertMethods } from './worker';

const params = new URLSearchParams(location.search);
const BUNDLED = 'models/kjv-bert/';

/** Without WebGPU: the bundled model's fill-mask and classifier in PyTorch (tools/train_bert.py record). */
const recorded = {
  caption: `the bundled model filling “${recordedRun.sentence}” and classifying “${recordedRun.classify.text}”, computed in PyTorch from the same weights by tools/train_bert.py.`,
  render(): Node {
    const box = document.createElement('div');
    const fill = Object.assign(document.createElement('div'), { className: 'bars' });
    bars(
      fill,
      recordedRun.fill.map((t) => ({ label: t.token, p: t.p })),
    );
    const cls = Object.assign(document.createElement('div'), { className: 'bars' });
    bars(
      cls,
      Object.entries(recordedRun.classify.scores).map(([label, p]) => ({ label, p })),
    );
    box.append(fill, Object.assign(document.createElement('p'), { className: 'small', textContent: 'Testament classifier:' }), cls);
    return box;
  },
};

if (!(await checkWebGPU({ recorded }))) await new Promise(() => undefined); // the page stays as it is, every control off

const engine = createWorkerEngine(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' }));
/** One of the worker's methods (demos/bert/worker.ts), typed by its name. */
function call<K extends keyof BertMethods>(
  name: K,
  args: Parameters<BertMethods[K]>[0],
  options?: CallOptions,
): Promise<Awaited<ReturnType<BertMethods[K]>>> {
  return engine.call(name, args, options);
}
type Description = Awaited<ReturnType<BertMethods['describe']>>;

const settings = {
  topK: 5,
  results: 8,
  verses: Number(params.get('verses') ?? 0) || 3134,
  pooling: 'model' as 'model' | 'mean' | 'cls' | 'max',
  aggregation: 'simple' as 'simple' | 'first' | 'max',
  layer: 0,
  head: 0,
  url: 'https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/main/',
  loadUrl: () => void job('load', () => loadFromUrl(settings.url)),
  loadFolder: () => void pickAndLoad(),
  clearCache: () => void clearCache(),
};

let model: (Description & { name: string }) | null = null;
/** The verses embedded in the worker's index. */
let index: { refs: string[]; texts: string[]; pooling: string } | null = null;
let verses: { ref: string; text: string }[] = [];

// ---------------------------------------------------------------- one job at a time

let busy: string | null = null;
let stop: AbortController | null = null;
const actions = ['fill', 'embed', 'search', 'compare', 'classify', 'nsp', 'ner', 'qa'];

function setBusy(name: string | null): void {
  busy = name;
  document.body.dataset.state = name ? `busy-${name}` : 'done';
  for (const id of actions) {
    const b = document.getElementById(id) as HTMLButtonElement | null;
    if (b) b.disabled = !!name || !model || (id === 'search' && !index);
  }
  ($('stop') as HTMLButtonElement).disabled = !stop;
  for (const c of loadCtls) c.enable(!name);
}

/** Runs `fn` unless another job runs (its button is off meanwhile, so a second click does nothing). */
async function job(name: string, fn: () => Promise<void>): Promise<void> {
  if (busy) return;
  setBusy(name);
  try {
    await fn();
  } catch (e) {
    if ((e as Error).name === 'AbortError') say('Stopped.');
    else say(`${(e as Error).message}`, 'error');
  } finally {
    stop = null;
    setBusy(null);
    await showMemory();
  }
}

async function showMemory(): Promise<void> {
  const bytes = await call('memory', null).catch(() => null);
  const el = $('memory');
  if (bytes === null) return;
  el.textContent = `GPU memory in use: ${formatBytes(bytes)}`;
  el.dataset.bytes = String(bytes);
}

// ---------------------------------------------------------------- loading

/** Loads through the library's loadModel (a URL of a folder, the cache, or picked files), then swaps models. */
async function install(source: ModelSource, name: string, cache: boolean): Promise<void> {
  stop = new AbortController();
  setBusy('load');
  const bar = $('embed-progress') as HTMLProgressElement;
  try {
    const loaded = await engine.loadModel(source, {
      kind: 'encoder',
      signal: stop.signal,
      cache: cache ? 'browser' : false,
      onProgress: (p) => {
        bar.hidden = p.phase !== 'download' || !p.total;
        bar.value = p.total ? p.loaded / p.total : 0;
        say(`${p.text[0].toUpperCase()}${p.text.slice(1)}${p.phase === 'download' ? ' (Stop cancels)' : ''}…`);
      },
    });
    index = null;
    model = { ...(await call('describe', null)), name };
    document.body.dataset.cache = loaded.info.downloadedBytes === 0 && loaded.info.fromCacheBytes > 0 ? 'hit' : 'stored';
  } finally {
    bar.hidden = true;
  }
  $('results').textContent = '';
  describe();
  const line = $('message').textContent;
  await drawAttention();
  say(`${line}${document.body.dataset.cache === 'hit' ? ' Read from Cache Storage: nothing downloaded.' : ''}`);
  document.body.dataset.ready = 'true';
}

function describe(): void {
  if (!model) return;
  const e = model;
  const h = e.heads;
  const heads = [
    h.maskedLM && 'masked LM',
    h.classify && `classification (${e.labels.join(', ')})`,
    h.nextSentence && 'next sentence',
    h.tokenClassify && `token classification (${e.labels.join(', ')})`,
    h.questionAnswering && 'question answering',
  ].filter(Boolean);
  say(
    `${model.name}: ${e.shape.type}, ${e.shape.hidden} wide, vocabulary ${e.shape.vocab}; heads: ${heads.join(', ') || 'none (embeddings only)'}.`,
  );
  $('heads-caption').textContent = heads.length
    ? 'The forms below are the heads this model has.'
    : 'This model has no task heads: it gives embeddings (search and similarity above).';
  for (const [form, on] of [
    ['classify-form', h.classify],
    ['nsp-form', h.nextSentence],
    ['ner-form', h.tokenClassify],
    ['qa-form', h.questionAnswering],
  ] as const)
    $(form).hidden = !on;
  ($('fill') as HTMLButtonElement).title = h.maskedLM ? '' : 'this model has no masked-LM head';
  const a = e.attentionShape ?? undefined;
  layerCtl.max(Math.max(0, (a?.layers ?? 1) - 1)).updateDisplay();
  headCtl.max(Math.max(0, (a?.heads ?? 1) - 1)).updateDisplay();
  settings.layer = Math.min(settings.layer, (a?.layers ?? 1) - 1);
  settings.head = Math.min(settings.head, (a?.heads ?? 1) - 1);
  document.body.dataset.model = model.name;
}

async function loadFromUrl(url: string): Promise<void> {
  const base = url.endsWith('/') ? url : `${url}/`;
  await install(
    base,
    base
      .replace(/\/resolve\/main\/$/, '')
      .split('/')
      .filter(Boolean)
      .slice(-2)
      .join('/'),
    true,
  );
}

async function pickAndLoad(): Promise<void> {
  const files = await pickFolder();
  if (!files) return;
  await job('load', () => install(files, files[0].name.split('/')[0] || 'model folder', false));
}

async function clearCache(): Promise<void> {
  const n = await engine.deleteCached();
  say(`Downloaded models removed from this browser (${n} file${n === 1 ? '' : 's'}).`);
}

// ---------------------------------------------------------------- fill-mask

function bars(el: HTMLElement, rows: { label: string; p: number }[]): void {
  el.replaceChildren(
    ...rows.flatMap(({ label, p }) => {
      const name = Object.assign(document.createElement('span'), { textContent: label });
      const bar = Object.assign(document.createElement('div'), { className: 'bar' });
      bar.style.width = `${(100 * p).toFixed(1)}%`;
      const num = Object.assign(document.createElement('span'), { className: 'num', textContent: `${(100 * p).toFixed(1)}%` });
      return [name, bar, num];
    }),
  );
}

async function fill(): Promise<void> {
  const text = ($('mask-text') as HTMLInputElement).value;
  const r = await call('fill', { text, topK: settings.topK });
  if (!r) {
    say('Put [MASK] where a word should be guessed.', 'error');
    return;
  }
  const { masks } = r;
  const out = $('output');
  out.replaceChildren(
    ...masks.map((mask, i) => {
      const block = Object.assign(document.createElement('div'), { className: 'mask-block' });
      const title = Object.assign(document.createElement('div'), { className: 'small', textContent: `[MASK] ${i + 1} of ${masks.length}` });
      const grid = Object.assign(document.createElement('div'), { className: 'bars' });
      bars(grid, mask);
      block.append(title, grid);
      return block;
    }),
  );
  out.dataset.top = masks.map((x) => x[0].label).join(' ');
  say(`${masks.length} masked position${masks.length > 1 ? 's' : ''}, top ${settings.topK} each.`);
  await drawAttention(r.attention);
}

// ---------------------------------------------------------------- attention

let attention: AttentionResult = null;

/** Draws the maps the worker computed (`given`: those of a fill), or asks for the text's. */
async function drawAttention(given?: AttentionResult): Promise<void> {
  const m = model!;
  const grid = $('attention-grid');
  const shape = m.attentionShape;
  if (!shape || !m.tokenizer) {
    grid.replaceChildren();
    $('attention-caption').textContent =
      `Attention maps are drawn for BERT, RoBERTa and DistilBERT models with a tokenizer; ${m.name} is not one.`;
    attention = null;
    return;
  }
  attention = given ?? (await call('attention', { text: ($('mask-text') as HTMLInputElement).value }));
  if (!attention) return;
  const { ids, layers } = attention;
  grid.style.setProperty('--heads', String(shape.heads));
  const T = ids.length;
  grid.replaceChildren(
    ...layers.flatMap((w, l) =>
      Array.from({ length: shape.heads }, (_, h) => {
        const fig = document.createElement('figure');
        fig.setAttribute('role', 'listitem');
        const c = Object.assign(document.createElement('canvas'), { width: T, height: T });
        c.setAttribute('aria-label', `layer ${l + 1}, head ${h + 1}`);
        paint(c.getContext('2d')!, w, h, T, 1);
        c.onclick = () => {
          settings.layer = l;
          settings.head = h;
          layerCtl.updateDisplay();
          headCtl.updateDisplay();
          drawPicked();
        };
        fig.append(c, Object.assign(document.createElement('figcaption'), { textContent: `L${l + 1} H${h + 1}` }));
        return fig;
      }),
    ),
  );
  grid.dataset.layers = String(shape.layers);
  grid.dataset.heads = String(shape.heads);
  drawPicked();
}

/** One head's T × T map at `cell` px per token into ctx. */
function paint(ctx: CanvasRenderingContext2D, w: Float32Array, head: number, T: number, cell: number, x0 = 0, y0 = 0): void {
  for (let q = 0; q < T; q++)
    for (let k = 0; k < T; k++) {
      ctx.fillStyle = `rgba(34, 119, 85, ${Math.min(1, w[(head * T + q) * T + k] * 1.5).toFixed(3)})`;
      ctx.fillRect(x0 + k * cell, y0 + q * cell, cell, cell);
    }
}

const LABEL = 72;
function drawPicked(): void {
  if (!attention) return;
  const { labels, layers } = attention;
  const T = labels.length;
  const cell = Math.max(8, Math.min(22, Math.floor((Math.min(innerWidth - 40, 700) - LABEL) / T)));
  const c = $('attention') as HTMLCanvasElement;
  c.width = LABEL + T * cell;
  c.height = LABEL + T * cell;
  const ctx = c.getContext('2d')!;
  ctx.clearRect(0, 0, c.width, c.height);
  paint(ctx, layers[settings.layer], settings.head, T, cell, LABEL, LABEL);
  ctx.fillStyle = getComputedStyle(document.body).color;
  ctx.font = `${Math.min(12, cell)}px system-ui, sans-serif`;
  ctx.textBaseline = 'middle';
  labels.forEach((s, i) => {
    const text = s.length > 9 ? `${s.slice(0, 8)}…` : s;
    ctx.textAlign = 'right';
    ctx.fillText(text, LABEL - 4, LABEL + (i + 0.5) * cell);
    ctx.save();
    ctx.translate(LABEL + (i + 0.5) * cell, LABEL - 4);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'left';
    ctx.fillText(text, 0, 0);
    ctx.restore();
  });
  c.dataset.drawn = 'true';
  c.dataset.cell = String(cell);
  c.setAttribute('aria-label', `Attention of layer ${settings.layer + 1}, head ${settings.head + 1} over ${T} tokens`);
  for (const [i, el] of [...$('attention-grid').querySelectorAll('canvas')].entries())
    el.classList.toggle('picked', i === settings.layer * attention.heads + settings.head);
}

$('attention').addEventListener('mousemove', (ev) => {
  if (!attention) return;
  const c = ev.currentTarget as HTMLCanvasElement;
  const r = c.getBoundingClientRect();
  const cell = Number(c.dataset.cell) * (r.width / c.width);
  const k = Math.floor((ev.clientX - r.left - LABEL * (r.width / c.width)) / cell);
  const q = Math.floor((ev.clientY - r.top - LABEL * (r.height / c.height)) / cell);
  const T = attention.labels.length;
  if (q < 0 || k < 0 || q >= T || k >= T) return;
  const w = attention.layers[settings.layer][(settings.head * T + q) * T + k];
  $('attention-readout').textContent = `"${attention.labels[q]}" → "${attention.labels[k]}": ${(100 * w).toFixed(1)}% of its attention`;
});

// ---------------------------------------------------------------- semantic search

async function embedVerses(): Promise<void> {
  if (!model?.tokenizer) throw new Error('this model folder has no tokenizer.json, so it cannot read text');
  if (!verses.length) {
    const res = await fetch(`${import.meta.env.BASE_URL}${BUNDLED}verses.tsv`);
    if (!res.ok) throw new Error(`could not fetch the verses: HTTP ${res.status}`);
    verses = (await res.text())
      .trim()
      .split('\n')
      .map((l) => {
        const [ref, text] = l.split('\t');
        return { ref, text };
      });
  }
  const chosen = verses.slice(0, Math.max(1, Math.min(settings.verses, verses.length)));
  stop = new AbortController();
  setBusy('embed');
  const bar = $('embed-progress') as HTMLProgressElement;
  bar.hidden = false;
  bar.value = 0;
  index = null;
  const used = settings.pooling;
  const t0 = performance.now();
  try {
    const built = await call(
      'index',
      { texts: chosen.map((v) => v.text), pooling: used },
      {
        signal: stop.signal,
        onProgress: (p) => {
          const { done, total } = p as { done: number; total: number };
          bar.value = done / total;
          say(`Embedding verses: ${done} of ${total} (Stop ends it)…`);
        },
      },
    );
    index = { refs: chosen.map((v) => v.ref), texts: chosen.map((v) => v.text), pooling: used };
    say(
      `${chosen.length} verses embedded in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${formatBytes(built.size * built.dim * 4)} on the GPU. Search away.`,
    );
    document.body.dataset.indexed = String(chosen.length);
  } finally {
    bar.hidden = true;
  }
}

async function search(): Promise<void> {
  if (!index) throw new Error('Embed the verses first.');
  if (index.pooling !== settings.pooling) throw new Error('The pooling changed since the verses were embedded: embed them again.');
  const text = ($('query') as HTMLInputElement).value.trim();
  if (!text) {
    say('Type what to look for.');
    return;
  }
  const hits = await call('search', { text, pooling: settings.pooling, k: settings.results });
  $('results').replaceChildren(
    ...hits.map((h) => {
      const li = document.createElement('li');
      li.append(
        Object.assign(document.createElement('span'), { className: 'ref', textContent: index!.refs[h.index] }),
        ` ${index!.texts[h.index]} `,
        Object.assign(document.createElement('span'), { className: 'score', textContent: `cosine ${h.score.toFixed(3)}` }),
      );
      return li;
    }),
  );
  say(`The ${hits.length} verses nearest to “${text}”.`);
}

// ---------------------------------------------------------------- similarity heatmap

async function compare(): Promise<void> {
  const m = model!;
  const lines = ($('sentences') as HTMLTextAreaElement).value
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .slice(0, 12);
  if (lines.length < 2) throw new Error('Give at least two sentences, one a line.');
  const C = m.shape.hidden;
  const v = await call('embed', { lines, pooling: settings.pooling });
  const n = lines.length;
  const cos = (i: number, j: number) => {
    let s = 0;
    for (let c = 0; c < C; c++) s += v[i * C + c] * v[j * C + c];
    return s;
  };
  const c = $('heatmap') as HTMLCanvasElement;
  const label = 150;
  const cell = Math.max(34, Math.min(60, Math.floor((Math.min(innerWidth - 40, 700) - label) / n)));
  c.width = label + n * cell;
  c.height = n * cell + 4;
  const ctx = c.getContext('2d')!;
  ctx.clearRect(0, 0, c.width, c.height);
  ctx.font = '12px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  for (let i = 0; i < n; i++) {
    ctx.fillStyle = getComputedStyle(document.body).color;
    ctx.textAlign = 'right';
    ctx.fillText(lines[i].length > 18 ? `${i + 1}. ${lines[i].slice(0, 16)}…` : `${i + 1}. ${lines[i]}`, label - 6, (i + 0.5) * cell);
    for (let j = 0; j < n; j++) {
      const s = cos(i, j);
      ctx.fillStyle = `rgba(34, 119, 85, ${Math.max(0, s).toFixed(3)})`;
      ctx.fillRect(label + j * cell, i * cell, cell - 2, cell - 2);
      ctx.fillStyle = s > 0.6 ? '#fff' : getComputedStyle(document.body).color;
      ctx.textAlign = 'center';
      ctx.fillText(s.toFixed(2), label + (j + 0.5) * cell, (i + 0.5) * cell);
    }
  }
  c.dataset.drawn = 'true';
  c.dataset.n = String(n);
  c.setAttribute(
    'aria-label',
    `Cosine similarity of ${n} sentences: ${lines.map((_, i) => `${i + 1}–${i === 0 ? 2 : 1}: ${cos(i, i === 0 ? 1 : 0).toFixed(2)}`).join(', ')}`,
  );
  say(`Cosine similarity of ${n} sentences (1 on the diagonal: each with itself).`);
}

// ---------------------------------------------------------------- heads

async function classify(): Promise<void> {
  const rows = (await call('classify', { text: ($('classify-text') as HTMLInputElement).value })).sort((a, b) => b.p - a.p);
  bars($('classify-output'), rows);
  $('classify-output').dataset.top = rows[0].label;
  say(`Classified: ${rows[0].label}.`);
}

async function nextSentence(): Promise<void> {
  const { p, typeIds } = await call('nsp', { a: ($('nsp-a') as HTMLInputElement).value, b: ($('nsp-b') as HTMLInputElement).value });
  const out = $('nsp-output');
  out.textContent = `It follows with probability ${(100 * p).toFixed(1)}% (segment ids: ${typeIds.join('')})`;
  out.dataset.p = p.toFixed(4);
}

async function ner(): Promise<void> {
  const text = ($('ner-text') as HTMLInputElement).value;
  const entities = await call('ner', { text, aggregation: settings.aggregation });
  const out = $('ner-output');
  const parts: (string | HTMLElement)[] = [];
  let at = 0;
  for (const e of entities) {
    parts.push(text.slice(at, e.startChar));
    const mark = Object.assign(document.createElement('mark'), { textContent: text.slice(e.startChar, e.endChar) });
    mark.style.background = `hsl(${(e.entity.charCodeAt(0) * 47) % 360} 70% 60% / 0.45)`;
    mark.append(Object.assign(document.createElement('small'), { textContent: `${e.entity} ${(100 * e.score).toFixed(0)}%` }));
    parts.push(mark);
    at = e.endChar!;
  }
  parts.push(text.slice(at));
  out.replaceChildren(...parts);
  out.dataset.entities = entities.map((e) => `${e.entity}:${text.slice(e.startChar, e.endChar)}`).join('|');
  say(`${entities.length} entit${entities.length === 1 ? 'y' : 'ies'} (${settings.aggregation} aggregation).`);
}

async function answer(): Promise<void> {
  const question = ($('qa-question') as HTMLInputElement).value;
  const context = ($('qa-context') as HTMLTextAreaElement).value;
  const best = await call('qa', { question, context });
  const [s, e] = [best.start, best.end];
  const out = $('answer');
  out.replaceChildren(
    context.slice(0, s),
    Object.assign(document.createElement('mark'), { textContent: context.slice(s, e) }),
    context.slice(e),
    ` (score ${(100 * best.score).toFixed(1)}%)`,
  );
  out.dataset.answer = context.slice(s, e);
}

// ---------------------------------------------------------------- the panel and the buttons

const gui = new GUI({ title: 'BERT', container: $('controls') });
gui.add(settings, 'topK', 1, 20, 1).name('fill-mask: top k');
gui.add(settings, 'results', 1, 30, 1).name('search: results');
gui.add(settings, 'verses', 1, 3134, 1).name('search: verses to embed');
gui
  .add(settings, 'pooling', ['model', 'mean', 'cls', 'max'])
  .name('embedding pooling')
  .onChange(() => {
    if (index && index.pooling !== settings.pooling) say('Pooling changed: the next search needs the verses embedded again.');
  });
gui.add(settings, 'aggregation', ['simple', 'first', 'max']).name('NER: aggregation');
const layerCtl = gui
  .add(settings, 'layer', 0, 0, 1)
  .name('attention: layer (from 0)')
  .onChange(() => drawPicked());
const headCtl = gui
  .add(settings, 'head', 0, 0, 1)
  .name('attention: head (from 0)')
  .onChange(() => drawPicked());
const load = gui.addFolder('Load a model');
load.add(settings, 'url').name('URL of a model folder');
const loadCtls = [
  load.add(settings, 'loadUrl').name('load from the URL (kept in Cache Storage)'),
  load.add(settings, 'loadFolder').name('open a model folder…'),
];
load.add(settings, 'clearCache').name('clear downloaded models');

const on = (id: string, name: string, fn: () => Promise<void>) => {
  const el = $(id);
  const run = (ev?: Event) => {
    ev?.preventDefault();
    void job(name, fn);
  };
  if (el instanceof HTMLFormElement) el.addEventListener('submit', run);
  else el.addEventListener('click', () => run());
};
on('form', 'fill', fill);
on('embed', 'embed', embedVerses);
on('search-form', 'search', search);
on('compare', 'compare', compare);
on('classify-form', 'classify', classify);
on('nsp-form', 'nsp', nextSentence);
on('ner-form', 'ner', ner);
on('qa-form', 'qa', answer);
$('stop').addEventListener('click', () => stop?.abort());
addEventListener('resize', () => drawPicked());

// ---------------------------------------------------------------- start: the bundled model

await job('load', () => install(new URL(`${import.meta.env.BASE_URL}${BUNDLED}`, location.href).href, 'KJV BERT (bundled)', false));
if (!model) document.body.dataset.ready = 'error';
