// The LoRA part of the "Small language models" page: the adapters loaded (rank, alpha, targets, size
// against the base), a note on why low rank is small and what alpha does, and the same prompt under
// the base model and each adapter side by side.
import type { AdapterInfo } from 'webgpu-nlp';
import { formatBytes } from '../common/page';

/** The adapters as a table: what each changes and what it costs next to the base weights. */
export function drawAdapters(table: HTMLTableElement, list: AdapterInfo[], baseBytes: number): void {
  const head = document.createElement('thead');
  head.innerHTML =
    '<tr><th scope="col">adapter</th><th scope="col">rank r</th><th scope="col">alpha (scale)</th><th scope="col">adapts</th><th scope="col">parameters</th><th scope="col">size</th><th scope="col">of the base</th></tr>';
  const body = document.createElement('tbody');
  for (const a of list) {
    const tr = document.createElement('tr');
    tr.dataset.adapter = a.name;
    const scale = a.rslora ? a.alpha / Math.sqrt(a.rank) : a.alpha / a.rank;
    const cells = [
      `${a.name} (${a.format === 'gguf' ? 'llama.cpp GGUF' : 'PEFT'})`,
      String(a.rank),
      `${a.alpha} (${a.rslora ? 'α/√r' : 'α/r'} = ${+scale.toFixed(3)})`,
      a.targetModules.join(', '),
      a.parameters.toLocaleString('en'),
      `${formatBytes(a.byteLength)} (${a.dtype})`,
      `${((100 * a.byteLength) / baseBytes).toFixed(1)}%`,
    ];
    tr.append(...cells.map((t) => Object.assign(document.createElement('td'), { textContent: t })));
    body.append(tr);
  }
  table.replaceChildren(head, body);
}

/**
 * Why an adapter is small, with this model's numbers: a d × d matrix's update as B [d × r] · A [r × d]
 * holds r · 2d numbers instead of d²; alpha scales the update.
 */
export function lowRankNote(list: AdapterInfo[], hidden: number): string {
  const r = list[0]?.rank ?? 16;
  const alpha = list[0]?.alpha ?? 2 * r;
  const full = hidden * hidden;
  const low = r * 2 * hidden;
  return (
    'A LoRA adapter leaves the base weights W as they are and adds a low-rank update: W′ = W + (α / r) · B·A, with A ' +
    `[r × in] and B [out × r]. It stores r · (in + out) numbers instead of in · out: for this model's ${hidden} × ${hidden} ` +
    `attention matrices at rank ${r}, ${low.toLocaleString('en')} instead of ${full.toLocaleString('en')} ` +
    `(${((100 * low) / full).toFixed(1)}%). That is enough because what fine-tuning changes in a matrix is close to low rank. ` +
    `α (here ${alpha}) sets how strongly the update counts: the scale is α / r (α / √r with rsLoRA), so raising α strengthens ` +
    'the fine-tune without retraining, and a rank change keeps a similar strength. The update runs beside the base matmul, ' +
    'unmerged, so one base model serves every adapter; pick one per generation in the settings.'
  );
}

/** One column per model variant (base, then each adapter), filled as its text streams. */
export function sideBySide(box: HTMLElement, names: (string | null)[]): void {
  box.replaceChildren(
    ...names.map((n, i) => {
      const f = document.createElement('figure');
      f.dataset.index = String(i);
      f.append(
        Object.assign(document.createElement('figcaption'), { textContent: n ? `adapter: ${n}` : 'base model' }),
        Object.assign(document.createElement('pre'), { textContent: '…' }),
      );
      return f;
    }),
  );
}
