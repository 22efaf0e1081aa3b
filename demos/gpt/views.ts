// What the "Small language models" page draws: the next-token candidates of a step as bars, the
// prompt's tokens, and the attention map (labelled, fitting the screen, zoomable) with a small map of
// every head of the layer beside it.
import type { Candidate, FromWorker, Step, TokenPiece } from './protocol';
import { windowBlock } from './protocol';

/** A token's text with its invisible characters shown: · space, ↵ new line, → tab. */
export function readable(text: string): string {
  return text.replace(/ /g, '·').replace(/\n/g, '↵').replace(/\t/g, '→').replace(/\r/g, '␍') || '∅';
}

const pct = (p: number) => (p >= 0.1 ? `${(p * 100).toFixed(0)}%` : p >= 0.001 ? `${(p * 100).toFixed(1)}%` : p > 0 ? '<0.1%' : '0');

/**
 * One step's candidates as a table: token, id, the probability at the temperature (light bar) and
 * after top-k / top-p (dark bar, what the draw picks from; hatched when cut), the drawn one marked.
 */
export function drawCandidates(table: HTMLTableElement, step: Step): void {
  const head = document.createElement('thead');
  head.innerHTML =
    '<tr><th scope="col">token</th><th scope="col">id</th><th scope="col" title="softmax(logits / temperature)">p</th><th scope="col" title="after top-k / top-p, renormalised">after cut</th><th scope="col"><span class="next-legend bar p"></span> p <span class="next-legend bar kept"></span> after cut</th></tr>';
  const body = document.createElement('tbody');
  const max = Math.max(...step.candidates.map((c) => Math.max(c.p, c.kept)), 1e-9);
  for (const c of step.candidates) body.append(row(c, c.id === step.chosen, max));
  table.replaceChildren(head, body);
}

function row(c: Candidate, chosen: boolean, max: number): HTMLTableRowElement {
  const tr = document.createElement('tr');
  if (chosen) tr.className = 'chosen';
  tr.dataset.id = String(c.id);
  tr.dataset.p = String(c.p);
  tr.dataset.kept = String(c.kept);
  const cell = (text: string, className = '') => Object.assign(document.createElement('td'), { textContent: text, className });
  const bars = document.createElement('td');
  bars.className = 'bars';
  const bar = (v: number, cls: string) => {
    const b = document.createElement('div');
    b.className = `bar ${cls}`;
    b.style.width = `${Math.max(0.5, (100 * v) / max)}%`;
    return b;
  };
  bars.append(bar(c.p, 'p'), c.kept > 0 ? bar(c.kept, 'kept') : bar(c.p, 'cut'));
  tr.append(cell(readable(c.text), 'tok'), cell(String(c.id)), cell(pct(c.p)), cell(c.kept > 0 ? pct(c.kept) : 'cut'), bars);
  return tr;
}

/** The tokenizer view: one box per token with its readable text and id. */
export function drawTokens(list: HTMLElement, pieces: TokenPiece[]): void {
  list.replaceChildren(
    ...pieces.map((p) => {
      const li = document.createElement('li');
      const text = document.createElement('span');
      text.className = 'piece';
      // Spaces and new lines become visible marks, drawn in their own colour.
      for (const part of readable(p.text).split(/([·↵→␍])/)) {
        if (!part) continue;
        if ('·↵→␍'.includes(part)) text.append(Object.assign(document.createElement('span'), { className: 'mark', textContent: part }));
        else text.append(part);
      }
      if (p.special) text.title = 'a special token of the chat template';
      const id = Object.assign(document.createElement('span'), { className: 'id', textContent: String(p.id) });
      li.append(text, id);
      li.dataset.id = String(p.id);
      return li;
    }),
  );
}

export type AttentionMessage = Extract<FromWorker, { type: 'attention' }>;

/** The window of the map on screen: n queries from q0 and n keys from k0. */
export interface View {
  q0: number;
  k0: number;
  n: number;
}

/** Token names need rows at least this tall (px) to stay readable without overlapping. */
export const LABEL_ROW = 13;
const MARGIN = 84;

/**
 * The attention map of one head, square, as wide as its box (whose CSS keeps it within the viewport's
 * height). Rows are queries, columns keys. Token names label the rows and columns when a row is at least
 * LABEL_ROW px tall; otherwise the axes carry positions. Returns the geometry for hover.
 */
export function drawMap(canvas: HTMLCanvasElement, m: AttentionMessage, view: View): { cell: number; left: number; top: number } {
  const T = m.tokens.length;
  const W = Math.max(200, Math.floor(canvas.parentElement?.clientWidth || canvas.clientWidth || 360));
  const dpr = window.devicePixelRatio || 1;
  const cell = (W - MARGIN - 4) / view.n;
  const named = cell >= LABEL_ROW;
  const left = MARGIN;
  const top = MARGIN;
  canvas.width = W * dpr;
  canvas.height = W * dpr;
  canvas.style.height = `${W}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, W);
  const gap = cell > 4 ? 1 : 0;
  const q1 = Math.min(T, view.q0 + view.n);
  const k1 = Math.min(T, view.k0 + view.n);
  for (let q = view.q0; q < q1; q++) {
    for (let k = view.k0; k <= Math.min(q, k1 - 1); k++) {
      const x = left + (k - view.k0) * cell;
      const y = top + (q - view.q0) * cell;
      if (m.mask && !m.mask[q * T + k]) {
        ctx.fillStyle = 'rgba(136, 136, 136, 0.35)';
        ctx.fillRect(x, y, cell - gap, cell - gap);
        continue;
      }
      ctx.fillStyle = `rgba(42, 119, 170, ${Math.sqrt(m.weights[q * T + k])})`;
      ctx.fillRect(x, y, Math.max(cell - gap, 0.6), Math.max(cell - gap, 0.6));
    }
  }
  const ink = getComputedStyle(document.body).color || '#222';
  ctx.fillStyle = ink;
  ctx.font = '12px system-ui, sans-serif';
  ctx.fillText('key →', left, 12);
  ctx.save();
  ctx.translate(12, top);
  ctx.rotate(Math.PI / 2);
  ctx.fillText('query →', 0, 0);
  ctx.restore();
  const size = Math.min(12, Math.floor(cell) - 2);
  ctx.font = `${named ? size : 10}px ui-monospace, monospace`;
  const name = (i: number) => `${i} ${readable(m.tokens[i])}`.slice(0, 11);
  // Names on every row when they fit; else a position every few rows, far enough apart not to touch.
  const every = named ? 1 : Math.ceil(LABEL_ROW / cell);
  for (let i = 0; i < view.n; i++) {
    const q = view.q0 + i;
    const k = view.k0 + i;
    if (i % every) continue;
    if (q < q1) {
      ctx.textAlign = 'right';
      ctx.fillText(named ? name(q) : String(q), left - 3, top + i * cell + Math.min(cell, LABEL_ROW) - 2);
    }
    if (k < k1) {
      ctx.save();
      ctx.translate(left + i * cell + Math.min(cell, LABEL_ROW) - 2, top - 3);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = 'left';
      ctx.fillText(named ? name(k) : String(k), 0, 0);
      ctx.restore();
    }
  }
  ctx.textAlign = 'left';
  Object.assign(canvas.dataset, {
    cell: String(cell),
    left: String(left),
    top: String(top),
    named: String(named),
    q0: String(view.q0),
    k0: String(view.k0),
    n: String(view.n),
    tokens: String(T),
    first: m.tokens[0],
  });
  return { cell, left, top };
}

/** The view that labels every token: the last tokens (the newest text) when the whole map is too dense. */
export function labelledView(T: number, width: number): View {
  const n = Math.max(1, Math.min(T, Math.floor((width - MARGIN - 4) / LABEL_ROW)));
  return { q0: T - n, k0: T - n, n };
}

/** Zooms by `factor` (< 1: in) around the query/key position (q, k), kept inside the map. */
export function zoom(view: View, T: number, factor: number, q = view.q0 + view.n / 2, k = view.k0 + view.n / 2): View {
  const n = Math.max(4, Math.min(T, Math.round(view.n * factor)));
  const clamp = (x: number) => Math.max(0, Math.min(T - n, Math.round(x)));
  return { n, q0: clamp(q - n / 2), k0: clamp(k - n / 2) };
}

/** Small maps of every head of the layer, each a button that shows that head large. */
export function drawHeads(box: HTMLElement, m: AttentionMessage, onPick: (head: number) => void): void {
  if (!m.heads) return;
  const T = m.tokens.length;
  const H = m.heads.length / (T * T);
  const buttons: HTMLButtonElement[] = [];
  for (let h = 0; h < H; h++) {
    const img = new ImageData(T, T);
    for (let q = 0; q < T; q++)
      for (let k = 0; k <= q; k++) {
        const i = (q * T + k) * 4;
        const hidden = m.mask && !m.mask[q * T + k];
        const a = hidden ? 0.3 : Math.sqrt(m.heads[h * T * T + q * T + k]);
        img.data.set(hidden ? [136, 136, 136, 90] : [42, 119, 170, Math.round(255 * a)], i);
      }
    const small = document.createElement('canvas');
    small.width = T;
    small.height = T;
    small.getContext('2d')!.putImageData(img, 0, 0);
    const b = document.createElement('button');
    b.type = 'button';
    b.setAttribute('aria-pressed', String(h === m.head));
    b.setAttribute('aria-label', `show head ${h} large`);
    b.append(small, document.createTextNode(`head ${h}`));
    b.addEventListener('click', () => onPick(h));
    buttons.push(b);
  }
  box.replaceChildren(...buttons);
  box.dataset.heads = String(H);
}

/** The map's caption: layer, head (and its KV head), what part of the text, dense or windowed. */
export function mapCaption(m: AttentionMessage, heads: { heads: number; kvHeads: number; layers: number }, view: View): string {
  const T = m.tokens.length;
  const group = heads.heads / heads.kvHeads;
  const kv =
    group > 1
      ? ` (it reads KV head ${Math.floor(m.head / group)}: grouped-query attention shares each KV head among ${group} query heads)`
      : '';
  const cut = m.total > T ? ` the last ${T} of the text's ${m.total} tokens` : ` ${T} tokens`;
  const shown =
    view.n < T
      ? ` Showing queries ${view.q0}–${view.q0 + view.n - 1} and keys ${view.k0}–${view.k0 + view.n - 1}; zoom out or “whole map” for all.`
      : '';
  const sparse = m.mask
    ? ` Sliding window of ${m.window} tokens: hatched cells are keys the window hides (in whole blocks of ${windowBlock(m.window ?? 0)} tokens, so a little more than the window is seen); each row's weights are renormalised over what it sees.`
    : ' Dense causal attention: every query sees every earlier token.';
  return `Layer ${m.layer} of ${heads.layers}, head ${m.head} of ${heads.heads}${kv};${cut}, row = query, column = key.${shown}${sparse}`;
}
