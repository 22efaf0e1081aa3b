// LSTM demo: text generation from a prompt with a temperature control, and a heatmap of chosen hidden
// units over the generated characters. Another model (same file layout) loads from a file; the
// previous one is disposed.
import GUI from 'lil-gui';
import { $, fetchAsset, pickFile, say, showMemory, startEngine } from '../common/page';
import { CharLSTM } from './char-model';

const engine = await startEngine();
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
  seed: 1,
  units: '0-23',
  loadFile: () => void loadFile(),
};
const gui = new GUI({ title: 'LSTM', container: $('controls') });
gui.add(settings, 'temperature', 0, 2, 0.05);
gui.add(settings, 'characters', 10, 1000, 10);
gui.add(settings, 'seed', 0, 1000, 1);
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

let trace: { ch: string; h: Float32Array }[] = [];
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
heatmap.addEventListener('click', (e) => {
  const cell = cellAt(e);
  if (!cell) return;
  picked = cell.unit;
  drawUnitText();
  document.body.dataset.unit = String(picked);
});

let stopping = false;
$('stop').addEventListener('click', () => {
  stopping = true;
  ($('stop') as HTMLButtonElement).disabled = true;
});

/** While a generation runs, Generate and loading a model are off (a new model would replace this one), Stop is on. */
function setBusy(busy: boolean): void {
  ($('generate') as HTMLButtonElement).disabled = busy;
  ($('stop') as HTMLButtonElement).disabled = !busy;
  loadCtl.enable(!busy);
}

async function generate(): Promise<void> {
  const prompt = ($('prompt') as HTMLInputElement).value;
  const ids = model.encode(prompt);
  if (!ids.length) return say('The prompt has no characters this model knows.', 'error');
  const unknown = [...new Set([...prompt].filter((ch) => !model.vocab.includes(ch)))];
  setBusy(true);
  stopping = false;
  document.body.dataset.state = 'generating';
  const out = $('output');
  out.replaceChildren(Object.assign(document.createElement('span'), { className: 'prompt', textContent: prompt }));
  const text = document.createTextNode('');
  out.append(text);
  model.lstm.resetState();
  trace = [];
  const n = settings.characters; // a change of the setting mid-run applies to the next run
  let step = 0;
  let next = 0;
  let made = 0;
  try {
    for (const id of ids) next = (await model.step(id, settings.temperature, settings.seed, step++)).next;
    const t0 = performance.now();
    for (; made < n && !stopping; made++) {
      const ch = model.vocab[next];
      text.data += ch;
      const r = await model.step(next, settings.temperature, settings.seed, step++);
      trace.push({ ch, h: r.h });
      next = r.next;
      if (made % 10 === 9) drawHeatmap();
    }
    drawHeatmap();
    const ms = (performance.now() - t0) / Math.max(1, made);
    const dropped = unknown.length
      ? ` The prompt's ${unknown.map((c) => JSON.stringify(c)).join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not among the model's ${model.vocab.length} characters and ${unknown.length > 1 ? 'were' : 'was'} left out.`
      : '';
    say(
      `${made} characters${stopping ? ' (stopped)' : ''}, ${ms.toFixed(1)} ms per character (${(1000 / ms).toFixed(0)} characters/s).${dropped}`,
    );
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
