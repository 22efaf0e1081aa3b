// word2vec demo: nearest neighbours with bars, analogies, and a PCA map of chosen words, all computed
// with the engine. Default vectors: tools/train_word2vec.py on the King James Bible. Other vectors
// (word2vec binary or text, GloVe) load from a file; the previous model is disposed.
import GUI from 'lil-gui';
import { Word2Vec, pca } from 'webgpu-nlp';
import { $, collapseOnNarrow, fetchAsset, pickFile, say, showMemory, startEngine } from '../common/page';
import recordedRun from './recorded.json';
import { drawScatter, type Point, type ScatterView } from './scatter';

/** Without WebGPU: the neighbours list and an analogy, recorded from the same vectors (tools/record_page_examples.py). */
const recorded = {
  caption: `the nearest neighbours of "${recordedRun.query}" and ${recordedRun.analogy.abc.join(' : ')} :: ?, computed from these vectors by tools/record_page_examples.py.`,
  render(): Node {
    const box = document.createElement('div');
    const list = document.createElement('ol');
    for (const n of recordedRun.neighbours)
      list.append(Object.assign(document.createElement('li'), { textContent: `${n.word} ${n.score.toFixed(3)}` }));
    const [a, b, c] = recordedRun.analogy.abc;
    const analogyLine = Object.assign(document.createElement('p'), {
      textContent: `${a} is to ${b} as ${c} is to ${recordedRun.analogy.top.map((n) => `${n.word} (${n.score.toFixed(2)})`).join(', ')}`,
    });
    box.append(list, analogyLine);
    return box;
  },
};

const engine = await startEngine({ recorded });
let model: Word2Vec;
try {
  model = await Word2Vec.fromBinary(engine, await fetchAsset('models/kjv-word2vec.bin'));
} catch (e) {
  say(`Could not load the default vectors: ${(e as Error).message}`, 'error');
  throw e;
}
const settings = { k: 10, loadFile: () => void loadFile() };
const gui = new GUI({ title: 'Settings', container: $('controls') });
collapseOnNarrow(gui);
gui
  .add(settings, 'k', 1, 50, 1)
  .name('neighbours')
  .onFinishChange(() => void search());
gui.add(settings, 'loadFile').name('load vectors (.bin / .txt / GloVe)…');

function describe(): void {
  say(
    `${model.size.toLocaleString()} words of dimension ${model.dim}, on ${engine.adapter.description || engine.adapter.vendor || 'your GPU'}.`,
  );
  showMemory(engine);
}

async function loadFile(): Promise<void> {
  const file = await pickFile('.bin,.txt,.vec');
  if (!file) return;
  try {
    const isText = /\.(txt|vec)$/i.test(file.name);
    const head = new TextDecoder().decode(file.bytes.subarray(0, 200)).split('\n')[0];
    const next = !isText
      ? await Word2Vec.fromBinary(engine, file.bytes)
      : /^\s*\d+\s+\d+\s*$/.test(head)
        ? await Word2Vec.fromText(engine, file.bytes)
        : await Word2Vec.fromGloVe(engine, file.bytes);
    model.dispose();
    model = next;
    describe();
    await search();
  } catch (e) {
    say(`${file.name} could not be loaded (${(e as Error).message}); still using the previous vectors.`, 'error');
  }
}

/** Shows (or, with '', clears) a form's own error line, next to that form; the rest of the page stays as it is. */
function formError(id: 'search-error' | 'analogy-error' | 'project-error', text: string): void {
  $(id).textContent = text;
}

async function search(): Promise<void> {
  const word = ($('query') as HTMLInputElement).value.trim().toLowerCase();
  const list = $('neighbours');
  // A bad query leaves the last list in place: the error sits by the form.
  if (!word) return formError('search-error', 'Type a word to find its neighbours.');
  if (!model.has(word)) return formError('search-error', `'${word}' is not in the vocabulary; try another word.`);
  const found = await model.mostSimilar(word, settings.k);
  formError('search-error', '');
  describe();
  list.replaceChildren();
  for (const n of found) {
    const li = document.createElement('li');
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = `${Math.max(0, n.score) * 100}%`;
    // Each neighbour is a button: it becomes the query.
    const link = Object.assign(document.createElement('button'), { type: 'button', textContent: n.word, className: 'word' });
    link.setAttribute('aria-label', `${n.word}, similarity ${n.score.toFixed(3)}: find its neighbours`);
    link.addEventListener('click', () => {
      ($('query') as HTMLInputElement).value = n.word;
      void search().then(() => list.querySelector<HTMLButtonElement>('button.word')?.focus());
    });
    li.append(link, bar, Object.assign(document.createElement('span'), { textContent: n.score.toFixed(3), className: 'score' }));
    list.append(li);
  }
  list.dataset.query = word;
  document.body.dataset.neighbours = found.map((n) => n.word).join(' ');
}

async function analogy(): Promise<void> {
  const [a, b, c] = ['a', 'b', 'c'].map((id) => ($(id) as HTMLInputElement).value.trim().toLowerCase());
  if (!a || !b || !c) {
    $('analogy-result').textContent = '';
    return formError('analogy-error', 'Fill in all three words: a is to b as c is to ?');
  }
  const unknown = [a, b, c].filter((w) => !model.has(w));
  if (unknown.length) {
    $('analogy-result').textContent = '';
    return formError('analogy-error', `Not in the vocabulary: ${unknown.join(', ')}.`);
  }
  const top = await model.analogy(a, b, c, 3);
  formError('analogy-error', '');
  $('analogy-result').textContent = top.map((n) => `${n.word} (${n.score.toFixed(2)})`).join(', ');
  document.body.dataset.analogy = top.map((n) => n.word).join(' ');
  describe();
}

let points: Point[] = [];
let map: ScatterView | null = null;
async function project(): Promise<void> {
  const words = [
    ...new Set(
      ($('words') as HTMLTextAreaElement).value
        .toLowerCase()
        .split(/[\s,]+/)
        .filter(Boolean),
    ),
  ];
  const known = words.filter((w) => model.has(w));
  const missing = words.filter((w) => !model.has(w));
  if (known.length < 3) return formError('project-error', 'Give at least three words the vocabulary knows.');
  formError('project-error', '');
  const data = new Float32Array(known.length * model.dim);
  for (const [i, w] of known.entries()) data.set(model.vector(w), i * model.dim);
  const { coords, explained } = await pca(engine, data, known.length, model.dim, 2);
  points = known.map((w, i) => ({ label: w, x: coords[2 * i], y: coords[2 * i + 1] }));
  const canvas = $('scatter') as HTMLCanvasElement;
  map = drawScatter(canvas, $('tooltip'), points, [explained[0], explained[1]]);
  const held = `${(100 * explained[0]).toFixed(0)}% and ${(100 * explained[1]).toFixed(0)}%`;
  canvas.setAttribute(
    'aria-label',
    `A map of ${known.length} words on their first two principal components (${held} of the variance); the table below lists the coordinates.`,
  );
  const table = $('points') as HTMLTableElement;
  table.replaceChildren();
  table
    .createTHead()
    .insertRow()
    .append(...['word', 'PC1', 'PC2'].map((h) => Object.assign(document.createElement('th'), { textContent: h })));
  const body = table.createTBody();
  for (const p of points) {
    const row = body.insertRow();
    for (const v of [p.label, p.x.toFixed(3), p.y.toFixed(3)]) row.insertCell().textContent = v;
  }
  say(
    `PCA of ${known.length} words: the two axes hold ${held} of their variance.${missing.length ? ` Not in the vocabulary: ${missing.join(', ')}.` : ''}`,
  );
}

$('search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void search();
});
$('analogy-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void analogy();
});
$('project').addEventListener('click', () => void project());
$('reset-view').addEventListener('click', () => map?.reset());
for (const button of document.querySelectorAll<HTMLButtonElement>('.examples button')) {
  button.addEventListener('click', () => {
    const words = button.dataset.abc!.split(' ');
    for (const [i, id] of ['a', 'b', 'c'].entries()) ($(id) as HTMLInputElement).value = words[i];
    void analogy();
  });
}
describe();
await search();
await project();
describe();
document.body.dataset.ready = 'true';
