// Small helpers every demo page shares: engine start-up with a readable failure, a message line,
// fetching a bundled model, reading a picked file, and a GPU-memory readout.
import { Engine } from 'webgpu-nlp';
import type GUI from 'lil-gui';
import { type CheckOptions, checkWebGPU } from './webgpu-check';

export { checkWebGPU };
export { isSoftwareAdapter, noteSoftwareAdapter, type Recorded, showRecorded } from './webgpu-check';

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** Shows a message under the title; errors in red. */
export function say(text: string, kind: 'info' | 'error' = 'info'): void {
  const el = $('message');
  el.textContent = text;
  el.className = kind;
}

/** An engine on this browser's GPU, or a plain explanation of why there is none (with `options.recorded` beside it). */
export async function startEngine(options: CheckOptions = {}): Promise<Engine> {
  if (!(await checkWebGPU(options))) {
    // The page stays as it is, every control off; nothing else of it runs.
    await new Promise(() => undefined);
  }
  try {
    return await Engine.create({ powerPreference: 'high-performance' });
  } catch (e) {
    say(`${(e as Error).message}`, 'error');
    document.body.dataset.ready = 'error';
    throw e;
  }
}

/** A file shipped under public/ (models/…), relative to the site's base. */
export async function fetchAsset(path: string): Promise<Uint8Array> {
  const res = await fetch(`${import.meta.env.BASE_URL}${path}`);
  if (!res.ok) throw new Error(`could not fetch ${path}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Opens a file picker and resolves with the chosen file's bytes (null when cancelled). */
export function pickFile(accept: string): Promise<{ name: string; bytes: Uint8Array } | null> {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = accept;
    input.id = 'file-input';
    input.style.display = 'none';
    input.onchange = async () => {
      const f = input.files?.[0];
      input.remove();
      resolve(f ? { name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) } : null);
    };
    document.body.append(input);
    input.click();
  });
}

/** Opens a folder picker and resolves with every file in it (path relative to the folder; null when cancelled). */
export function pickFolder(): Promise<{ name: string; bytes: Uint8Array }[] | null> {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.webkitdirectory = true;
    input.id = 'folder-input';
    input.style.display = 'none';
    input.onchange = async () => {
      const files = [...(input.files ?? [])];
      input.remove();
      resolve(
        files.length
          ? await Promise.all(
              files.map(async (f) => ({ name: f.webkitRelativePath || f.name, bytes: new Uint8Array(await f.arrayBuffer()) })),
            )
          : null,
      );
    };
    document.body.append(input);
    input.click();
  });
}

export function formatBytes(n: number): string {
  return n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}

/** Writes the engine's live GPU bytes into #memory. */
export function showMemory(engine: Engine): void {
  const m = engine.memory();
  const el = document.getElementById('memory');
  if (el) {
    el.textContent = `GPU memory in use: ${formatBytes(m.liveBytes)}`;
    el.dataset.bytes = String(m.liveBytes);
  }
}

/** The settings panel starts closed on a narrow screen (a phone), so the page's main action comes first. */
export function collapseOnNarrow(gui: GUI, width = 700): void {
  if (matchMedia(`(max-width: ${width}px)`).matches) gui.close();
}
