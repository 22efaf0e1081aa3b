// LSTM demo: text generation from a prompt with a temperature control (a new seed each run unless fixed),
// the next characters the model weighs with their probabilities, a heatmap of chosen hidden units over the
// generated characters, and the gates and cell of one unit. Another model (same file layout) loads from a
// file; the previous one is disposed.
import GUI from 'lil-gui';
import { $, collapseOnNarrow, fetchAsset, pickFile, say, showMemory, startEngine } from '../common/page';
import { CharLSTM } from './char-model';
import recordedRun from './recorded.json';

/** Without WebGPU: text and next characters from the same model in PyTorch (tools/record_page_examples.py). */
const recorded = {
  caption: `what this model wrote after "${recordedRun.prompt}" at temperature ${recordedRun.temperature}, computed in PyTorch from the same weights by tools/record_page_examples.py.`,
  render(): Node {
    const box = document.createElement('div');
    const pre = document.createElement('pre');
    pre.append(Object.assign(document.createElement('span'), { className: 'prompt', textContent: recordedRun.prompt }), recordedRun.text);
    const next = Object.assign(document.createElement('p'), {
      textContent: `After the prompt, the most likely next characters: ${recordedRun.next.map((n) => `${JSON.stringify(n.char)} ${(100 * n.p).toFixed(1)}%`).join(', ')}.`,
    });
    box.append(pre, next);
    return box;
  },
};

const engine = await startEngine({ recorded });
let model: CharLSTM;
try {
  model = await CharLSTM.load(engine, await fetchAsset('models/kjv-char-lstm.safetensors'));
} catch (e) {
  say(`Could not load the default model: ${(e as Error).message}`, 'error');
  throw e;
}
const params = new URLSearchParams(location.search);
const settings = {
  temperature: 0.7,
  characters: Number(params.get('chars') ?? 200),
  newSeed: !params.has('seed'),
  seed: Number(params.get('seed') ?? 1),
  units: '0-23',
  loadFile: () => void loadFile(),
};
const gui = new GUI({ title: 'Settings', container: $('controls') });
collapseOnNarrow(gui);
gui.add(settings, 'temperature', 0, 2, 0.05).onChange(() => showNext());
gui.add(settings, 'characters', 10, 1000, 10);
gui.add(settings, 'newSeed').name('new seed each run');
const seedCtl = gui.add(settings, 'seed', 0, 999_999, 1).name('seed (the last run used)');
gui
  .add(settings, 'units')
  .name('hidden units (e.g. 0-23, 40)')
  .onFinishChange(() => drawHeatmap());
const loadCtl = gui.add(settings, 'loadFile').name('load a PyTorch LSTM (.safetensors)…');

function describe(): void {
  say(`Character LSTM: ${model.vocab.length} characters, ${model.lstm.config.numLayers} layers of ${model.hiddenSize} units.`);
  showMemory(engine);
}

async function loadFile(): Promise<void> {
  const file = await pickFile('.safetensors');
  if (!file) return;
  try {
    const next = await CharLSTM.load(engine, file.bytes);
    model.dispose();
    model = next;
    describe();
  } catch (e) {
    say(`${file.name} could not be loaded (${(e as Error).message}); still using the previous model.`, 'error');
  }
}

/** Per generated character: the character, and the top layer's h and c after reading it, its input x and the h before. */
let trace: { ch: string; h: Float32Array; c: Float32Array; x: Float32Array; hPrev: Float32Array }[] = [];
/** The logits after the last character read, and that text's tail, for the next-character list. */
let lastLogits: Float32Array | null = null;
let lastText = '';
let picked = 0; // the unit whose values colour the text below the heatmap
const MAX_ROWS = 64;

/** The units asked for in the panel ("0-23, 40"), those the model has, and how many were cut. */
function units(): { rows: number[]; asked: number; outside: number } {
  const out: number[] = [];
  let outside = 0;
  for (const part of settings.units.split(',')) {
    const [a, b] = part.split('-').map((s) => Number(s.trim()));
    if (!Number.isInteger(a)) continue;
    for (let u = a; u <= (Number.isInteger(b) ? b : a); u++) {
      if (u >= 0 && u < model.hiddenSize) out.push(u);
      else outside++;
    }
  }
  const unique = [...new Set(out)];
  return { rows: unique.slice(0, MAX_ROWS), asked: unique.length, outside };
}

const ROW = 11; // px per unit row
const COL = 9; // px per character column
const LEFT = 34; // unit labels
const TOP = 16; // character labels

const colour = (v: number) => {
  const a = Math.min(1, Math.abs(v));
  return v >= 0 ? `rgba(215, 48, 39, ${a})` : `rgba(49, 104, 189, ${a})`;
};

function drawHeatmap(): void {
  const canvas = $('heatmap') as HTMLCanvasElement;
  canvas.dataset.drawn = 'true'; // shown from the first drawing on (an empty box before explains nothing)
  const { rows, asked, outside } = units();
  const cols = trace;
  canvas.width = LEFT + Math.max(1, cols.length) * COL;
  canvas.height = TOP + rows.length * ROW + 2;
  canvas.style.width = `${canvas.width}px`;
  const ctx = canvas.getContext('2d')!;
  const ink = getComputedStyle(document.body).color || '#222';
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.font = '10px ui-monospace, monospace';
  ctx.fillStyle = ink;
  for (const [x, c] of cols.entries()) ctx.fillText(c.ch === '\n' ? '↵' : c.ch, LEFT + x * COL + 1, 11);
  rows.forEach((u, y) => {
    ctx.fillStyle = ink;
    ctx.fillText(String(u).padStart(3), 2, TOP + y * ROW + 9);
    cols.forEach((c, x) => {
      ctx.fillStyle = colour(c.h[u]);
      ctx.fillRect(LEFT + x * COL, TOP + y * ROW, COL - 1, ROW - 1);
    });
  });
  const notes: string[] = [];
  if (asked > rows.length) notes.push(`showing the first ${rows.length} of the ${asked} units asked for (at most ${MAX_ROWS} rows)`);
  if (outside) notes.push(`${outside} asked for are outside 0–${model.hiddenSize - 1} and left out`);
  canvas.setAttribute(
    'aria-label',
    `Heatmap of ${rows.length} hidden units over ${cols.length} generated characters; the text below is coloured by unit ${picked}.`,
  );
  canvas.dataset.rows = String(rows.length);
  canvas.dataset.cols = String(cols.length);
  if (!rows.includes(picked) && rows.length) picked = rows[0];
  drawUnitText(notes);
  drawGates();
}

const GATES = [
  ['i', '#1f6fd1'],
  ['f', '#2a8a3a'],
  ['g', '#d9822b'],
  ['o', '#9b4dca'],
] as const;

/** The picked unit's gates i, f, g, o (from CharLSTM.gatesOf, float64) and its cell c over the text, columns as the heatmap's. */
function drawGates(): void {
  const canvas = $('gates') as HTMLCanvasElement;
  if (!trace.length) return;
  const series = trace.map((t) => ({ ...model.gatesOf(picked, t.x, t.hPrev), c: t.c[picked] }));
  // How well the recomputed gates give back the GPU's cell: c = f·c_prev + i·g.
  let worst = 0;
  series.forEach((v, k) => {
    const cPrev = k ? series[k - 1].c : Number.NaN;
    if (k) worst = Math.max(worst, Math.abs(v.f * cPrev + v.i * v.g - v.c));
  });
  // Two bands: the gates on a fixed −1…+1 scale above, the cell on its own scale (±its largest |c|) below.
  const top = Math.max(1, ...series.map((v) => Math.abs(v.c)));
  const H = canvas.height;
  canvas.width = LEFT + series.length * COL;
  canvas.style.width = `${canvas.width}px`;
  canvas.dataset.drawn = 'true';
  const ctx = canvas.getContext('2d')!;
  const ink = getComputedStyle(document.body).color || '#222';
  ctx.clearRect(0, 0, canvas.width, H);
  const band = (from: number, to: number, range: number) => (v: number) => from + ((range - v) / (2 * range)) * (to - from);
  const gateY = band(6, 96, 1);
  const cellY = band(110, H - 6, top);
  ctx.font = '10px ui-monospace, monospace';
  ctx.fillStyle = ink;
  ctx.strokeStyle = '#8886';
  const axis = (y: (v: number) => number, range: number, name: string) => {
    for (const v of [range, 0, -range]) {
      ctx.fillText(v === 0 ? name : (v > 0 ? '+' : '−') + Math.abs(v).toFixed(range < 10 ? 1 : 0), 2, y(v) + 3);
      ctx.beginPath();
      ctx.moveTo(LEFT, y(v));
      ctx.lineTo(canvas.width, y(v));
      ctx.stroke();
    }
  };
  axis(gateY, 1, 'gate');
  axis(cellY, top, 'c');
  const line = (key: 'i' | 'f' | 'g' | 'o' | 'c', colour: string, width: number) => {
    const y = key === 'c' ? cellY : gateY;
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.beginPath();
    for (const [k, v] of series.entries()) ctx[k ? 'lineTo' : 'moveTo'](LEFT + k * COL + COL / 2, y(v[key]));
    ctx.stroke();
  };
  for (const [key, colour] of GATES) line(key, colour, 1.5);
  line('c', ink, 2.5);
  ctx.lineWidth = 1;
  canvas.dataset.unit = String(picked);
  canvas.dataset.cols = String(series.length);
  canvas.dataset.check = worst.toExponential(1);
  canvas.setAttribute('aria-label', `Gates i, f, g, o and cell c of unit ${picked} over ${series.length} characters.`);
  const mean = (key: 'i' | 'f' | 'o') => series.reduce((s, v) => s + v[key], 0) / series.length;
  $('gates-title').textContent = `Inside unit ${picked}: its gates and cell`;
  $('gates-caption').textContent =
    `Unit ${picked}: mean input gate ${mean('i').toFixed(2)}, forget gate ${mean('f').toFixed(2)}, output gate ${mean('o').toFixed(2)}; ` +
    `the gates, recomputed in float64 from the step's input and the previous h, give back the GPU's c to within ${worst.toExponential(1)}. Hover for values; click a heatmap row to pick another unit.`;
  gateValues = series;
}
let gateValues: { i: number; f: number; g: number; o: number; c: number }[] = [];

/** The most likely next characters after the text so far, at the current temperature, with bars. */
function showNext(): void {
  if (!lastLogits) return;
  const p = CharLSTM.probabilities(lastLogits, settings.temperature);
  const top = [...p.keys()].sort((a, b) => p[b] - p[a]).slice(0, 5);
  const list = $('next');
  list.replaceChildren(
    ...top.map((i) => {
      const li = document.createElement('li');
      const ch = model.vocab[i];
      const bar = Object.assign(document.createElement('div'), { className: 'bar' });
      bar.style.width = `${100 * p[i]}%`;
      li.append(
        Object.assign(document.createElement('span'), { className: 'ch', textContent: ch === '\n' ? '↵' : ch === ' ' ? '␣' : ch }),
        bar,
        Object.assign(document.createElement('span'), { className: 'p', textContent: `${(100 * p[i]).toFixed(1)}%` }),
      );
      return li;
    }),
  );
  list.dataset.top = top.map((i) => model.vocab[i]).join('');
  list.dataset.p = top.map((i) => p[i].toFixed(4)).join(' ');
  const tail = lastText.slice(-24).replace(/\n/g, '↵');
  $('next-caption').textContent =
    `Next after “…${tail}”, at temperature ${settings.temperature}${settings.temperature === 0 ? ' (always the most likely)' : ''}:`;
}

/** The generated text with each character's background set by one unit's value after it was read. */
function drawUnitText(notes: string[] = []): void {
  const box = $('unit-text');
  box.replaceChildren(
    ...trace.map((c) => {
      const v = c.h[picked];
      return Object.assign(document.createElement('span'), {
        textContent: c.ch,
        title: `unit ${picked}: ${v.toFixed(3)}`,
        style: `background: ${colour(v)}`,
      });
    }),
  );
  $('unit-caption').textContent = trace.length
    ? `The text coloured by unit ${picked} (click a row above to change it).${notes.length ? ` Note: ${notes.join('; ')}.` : ''}`
    : notes.length
      ? `Note: ${notes.join('; ')}.`
      : '';
}

/** The character column and unit row under the pointer, or null off the grid. */
function cellAt(e: MouseEvent): { x: number; unit: number } | null {
  const r = ($('heatmap') as HTMLCanvasElement).getBoundingClientRect();
  const x = Math.floor((e.clientX - r.left - LEFT) / COL);
  const y = Math.floor((e.clientY - r.top - TOP) / ROW);
  const { rows } = units();
  return x >= 0 && x < trace.length && y >= 0 && y < rows.length ? { x, unit: rows[y] } : null;
}

const heatmap = $('heatmap') as HTMLCanvasElement;
const tooltip = $('tooltip');
heatmap.addEventListener('mousemove', (e) => {
  const cell = cellAt(e);
  tooltip.style.display = cell ? 'block' : 'none';
  if (!cell) return;
  const c = trace[cell.x];
  tooltip.textContent = `character ${cell.x + 1} ${JSON.stringify(c.ch)} · unit ${cell.unit}: h = ${c.h[cell.unit].toFixed(3)}`;
  tooltip.style.left = `${e.clientX + 12}px`;
  tooltip.style.top = `${e.clientY + 12}px`;
});
heatmap.addEventListener('mouseleave', () => (tooltip.style.display = 'none'));
// The tooltip is placed at the pointer: a scroll (page or map box) moves the map under a still pointer, so
// it goes until the next pointer move reads the cell that is there now.
addEventListener('scroll', () => (tooltip.style.display = 'none'), { capture: true, passive: true });
const gatesCanvas = $('gates') as HTMLCanvasElement;
gatesCanvas.addEventListener('mousemove', (e) => {
  const x = Math.floor((e.clientX - gatesCanvas.getBoundingClientRect().left - LEFT) / COL);
  const v = gateValues[x];
  tooltip.style.display = v ? 'block' : 'none';
  if (!v) return;
  tooltip.textContent = `character ${x + 1} ${JSON.stringify(trace[x].ch)} · unit ${picked}: i ${v.i.toFixed(2)} f ${v.f.toFixed(2)} g ${v.g.toFixed(2)} o ${v.o.toFixed(2)} c ${v.c.toFixed(3)}`;
  tooltip.style.left = `${e.clientX + 12}px`;
  tooltip.style.top = `${e.clientY + 12}px`;
});
gatesCanvas.addEventListener('mouseleave', () => (tooltip.style.display = 'none'));
heatmap.addEventListener('click', (e) => {
  const cell = cellAt(e);
  if (!cell) return;
  picked = cell.unit;
  drawUnitText();
  drawGates();
  document.body.dataset.unit = String(picked);
});

let stopping = false;
$('stop').addEventListener('click', () => {
  stopping = true;
  ($('stop') as HTMLButtonElement).disabled = true;
  ($('generate') as HTMLButtonElement).focus(); // focus stays on the page's action, not the body
});

/** While a generation runs, Generate and loading a model are off (a new model would replace this one), Stop is on. */
function setBusy(busy: boolean): void {
  const stopHadFocus = document.activeElement === $('stop');
  ($('generate') as HTMLButtonElement).disabled = busy;
  ($('stop') as HTMLButtonElement).disabled = !busy;
  loadCtl.enable(!busy);
  if (!busy && stopHadFocus) ($('generate') as HTMLButtonElement).focus();
}

async function generate(): Promise<void> {
  const prompt = ($('prompt') as HTMLInputElement).value;
  const ids = model.encode(prompt);
  if (!ids.length) return say('The prompt has no characters this model knows.', 'error');
  const unknown = [...new Set([...prompt].filter((ch) => !model.vocab.includes(ch)))];
  setBusy(true);
  stopping = false;
  document.body.dataset.state = 'generating';
  // A new seed each run (shown in the panel, so a run can be repeated by unticking "new seed each run").
  if (settings.newSeed) seedCtl.setValue(Math.floor(Math.random() * 1_000_000));
  const seed = settings.seed;
  const progress = $('progress') as HTMLProgressElement;
  const out = $('output');
  out.replaceChildren(Object.assign(document.createElement('span'), { className: 'prompt', textContent: prompt }));
  const text = document.createTextNode('');
  out.append(text);
  model.lstm.resetState();
  trace = [];
  const n = settings.characters; // a change of the setting mid-run applies to the next run
  progress.max = n;
  progress.value = 0;
  $('run-progress').textContent = `reading the prompt (${ids.length} characters)…`;
  let step = 0;
  let next = 0;
  let made = 0;
  let hPrev: Float32Array = new Float32Array(model.hiddenSize);
  lastText = prompt;
  try {
    for (const id of ids) {
      const r = await model.step(id, settings.temperature, seed, step++);
      next = r.next;
      hPrev = r.h;
      lastLogits = r.logits;
    }
    showNext();
    const t0 = performance.now();
    for (; made < n && !stopping; made++) {
      const ch = model.vocab[next];
      text.data += ch;
      lastText += ch;
      const r = await model.step(next, settings.temperature, seed, step++);
      trace.push({ ch, h: r.h, c: r.c, x: r.x, hPrev });
      hPrev = r.h;
      lastLogits = r.logits;
      next = r.next;
      progress.value = made + 1;
      $('run-progress').textContent = `${made + 1} / ${n}`;
      if (made % 10 === 9) {
        drawHeatmap();
        showNext();
      }
    }
    drawHeatmap();
    showNext();
    const ms = (performance.now() - t0) / Math.max(1, made);
    const dropped = unknown.length
      ? ` The prompt's ${unknown.map((c) => JSON.stringify(c)).join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not among the model's ${model.vocab.length} characters and ${unknown.length > 1 ? 'were' : 'was'} left out.`
      : '';
    say(
      `${made} characters${stopping ? ' (stopped)' : ''}, ${ms.toFixed(1)} ms per character (${(1000 / ms).toFixed(0)} characters/s), seed ${seed}.${dropped}`,
    );
    $('run-progress').textContent = `${made} / ${n}${stopping ? ' (stopped)' : ''}`;
    out.dataset.seed = String(seed);
    showMemory(engine);
    out.dataset.generated = String(text.data.length);
    document.body.dataset.state = stopping ? 'stopped' : 'done';
  } catch (e) {
    say(`Generation failed: ${(e as Error).message}`, 'error');
    document.body.dataset.state = 'error';
  } finally {
    setBusy(false);
  }
}

$('form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (!($('generate') as HTMLButtonElement).disabled) void generate();
});
describe();
document.body.dataset.ready = 'true';
