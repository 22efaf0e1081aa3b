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
gui.add(settings, 'loadFile').name('load a PyTorch LSTM (.safetensors)…');

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

function units(): number[] {
  const out: number[] = [];
  for (const part of settings.units.split(',')) {
    const [a, b] = part.split('-').map((s) => Number(s.trim()));
    if (Number.isInteger(a)) for (let u = a; u <= (Number.isInteger(b) ? b : a); u++) if (u < model.hiddenSize) out.push(u);
  }
  return out.slice(0, 64);
}

function drawHeatmap(): void {
  const canvas = $('heatmap') as HTMLCanvasElement;
  canvas.dataset.drawn = 'true'; // shown from the first drawing on (an empty box before explains nothing)
  const rows = units();
  const cols = trace.slice(-120);
  const W = canvas.clientWidth;
  const cell = Math.max(4, Math.min(14, Math.floor((W - 40) / Math.max(1, cols.length))));
  canvas.width = W;
  canvas.height = 20 + rows.length * 8;
  const ctx = canvas.getContext('2d')!;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.font = '10px ui-monospace, monospace';
  cols.forEach((c, x) => {
    ctx.fillStyle = '#888';
    ctx.fillText(c.ch === '\n' ? '↵' : c.ch, 40 + x * cell, 12);
    rows.forEach((u, y) => {
      const v = Math.max(-1, Math.min(1, c.h[u]));
      ctx.fillStyle = v >= 0 ? `rgba(215, 48, 39, ${v})` : `rgba(49, 104, 189, ${-v})`;
      ctx.fillRect(40 + x * cell, 16 + y * 8, cell - 1, 7);
    });
  });
  rows.forEach((u, y) => {
    ctx.fillStyle = '#888';
    ctx.fillText(String(u), 2, 23 + y * 8);
  });
}

async function generate(): Promise<void> {
  const prompt = ($('prompt') as HTMLInputElement).value;
  const ids = model.encode(prompt);
  if (!ids.length) return say('The prompt has no characters this model knows.', 'error');
  ($('generate') as HTMLButtonElement).disabled = true;
  document.body.dataset.state = 'generating';
  const out = $('output');
  out.replaceChildren(Object.assign(document.createElement('span'), { className: 'prompt', textContent: prompt }));
  const text = document.createTextNode('');
  out.append(text);
  model.lstm.resetState();
  trace = [];
  let step = 0;
  let next = 0;
  for (const id of ids) next = (await model.step(id, settings.temperature, settings.seed, step++)).next;
  const t0 = performance.now();
  for (let i = 0; i < settings.characters; i++) {
    const ch = model.vocab[next];
    text.data += ch;
    const r = await model.step(next, settings.temperature, settings.seed, step++);
    trace.push({ ch, h: r.h });
    next = r.next;
    if (i % 10 === 9) drawHeatmap();
  }
  drawHeatmap();
  const ms = (performance.now() - t0) / settings.characters;
  say(`${settings.characters} characters, ${ms.toFixed(1)} ms per character (${(1000 / ms).toFixed(0)} characters/s).`);
  showMemory(engine);
  out.dataset.generated = String(text.data.length);
  ($('generate') as HTMLButtonElement).disabled = false;
  document.body.dataset.state = 'done';
}

$('form').addEventListener('submit', (e) => {
  e.preventDefault();
  void generate();
});
describe();
document.body.dataset.ready = 'true';
