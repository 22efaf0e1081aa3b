// What a person sees in a browser without a usable WebGPU adapter: why, and what to do in *this*
// browser (not developer advice), with every control of the page turned off so nothing half-works.
// Used by every page before it starts an engine or a worker.

/** Advice for this browser, from its user agent. */
export function webgpuAdvice(missing: boolean): string {
  const ua = navigator.userAgent;
  const what = missing ? 'This browser has no WebGPU.' : 'WebGPU is present, but no GPU adapter is available to this page.';
  if (/Edg\//.test(ua) || /Chrome\//.test(ua)) {
    return (
      `${what} In Chrome or Edge (version 113 or later), open chrome://gpu and look at "WebGPU": it may be disabled or your ` +
      'GPU blocklisted. Update the graphics driver; on Linux, enable chrome://flags/#enable-unsafe-webgpu and ' +
      'chrome://flags/#enable-vulkan, then restart the browser. Hardware acceleration must be on (Settings → System).'
    );
  }
  if (/Firefox\//.test(ua)) {
    return `${what} Firefox has WebGPU from version 141 on Windows; elsewhere use Firefox Nightly, or set dom.webgpu.enabled to true in about:config.`;
  }
  if (/Safari\//.test(ua)) {
    return `${what} Safari has WebGPU from version 26; in earlier versions turn it on under Develop → Feature Flags → WebGPU.`;
  }
  return `${what} Use a browser with WebGPU: Chrome or Edge 113 or later, Safari 26, or Firefox 141 on Windows.`;
}

/** True for CPU-emulated adapters: SwiftShader (Chrome's fallback), llvmpipe / lavapipe (Mesa), WARP. */
export function isSoftwareAdapter(adapter: { vendor?: string; architecture?: string; device?: string; description?: string }): boolean {
  return /swiftshader|llvmpipe|lavapipe|\bwarp\b|microsoft basic render|software/i.test(
    `${adapter.vendor ?? ''} ${adapter.architecture ?? ''} ${adapter.device ?? ''} ${adapter.description ?? ''}`,
  );
}

/** Where a page's notes go: before its message line (#message, or #status on the landing and bench pages). */
function messageLine(): HTMLElement | null {
  return document.getElementById('message') ?? document.getElementById('status');
}

/**
 * On a CPU fallback adapter, says so once on the page (a `.cpu-note` before the message line, or in an
 * element with `data-cpu-note` where the page has one): what the adapter is and that everything will be slow.
 */
export function noteSoftwareAdapter(info: { vendor?: string; architecture?: string; device?: string; description?: string }): void {
  if (!isSoftwareAdapter(info) || document.getElementById('cpu-note')) return;
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' · ') || 'a software adapter';
  const note = document.createElement('p');
  note.id = 'cpu-note';
  note.className = 'cpu-note';
  note.setAttribute('role', 'note');
  note.textContent =
    `Your browser runs WebGPU on ${name}: a CPU fallback that emulates a GPU in software (“swiftshader” is Chrome's), ` +
    'because it found no usable GPU. Everything on this page works, but slowly: a run that takes a second here takes ' +
    'milliseconds on a GPU. To use your GPU, check chrome://gpu (WebGPU and Vulkan) and the graphics driver.';
  const slot = document.querySelector<HTMLElement>('[data-cpu-note]');
  const line = messageLine();
  if (slot) slot.replaceChildren(note);
  else if (line) line.before(note);
  else document.body.prepend(note);
}

/** What a page would produce, recorded on a machine with WebGPU, for a browser without it. */
export interface Recorded {
  /** Says what was recorded and where, e.g. 'the neighbours of "god" (SwiftShader, Chromium 142)'. */
  caption: string;
  /** The recorded result as the page would draw it (text, a list, a table). */
  render(): Node | Promise<Node>;
}

/**
 * Shows a recorded example beside the advice: a `figure.recorded` labelled "Recorded example, not run here",
 * after the message line (or `after`). Returns the figure (its content is filled once `render` resolves).
 */
export function showRecorded(recorded: Recorded, after: Element | null = messageLine()): HTMLElement {
  const figure = document.createElement('figure');
  figure.className = 'recorded';
  figure.id = 'recorded';
  const caption = document.createElement('figcaption');
  caption.textContent = `Recorded example, not run here: ${recorded.caption}`;
  figure.append(caption);
  if (after) after.after(figure);
  else document.body.append(figure);
  void Promise.resolve()
    .then(() => recorded.render())
    .then((node) => {
      figure.append(node);
      figure.dataset.drawn = 'true';
    })
    .catch((e) => {
      figure.append(document.createTextNode(`(the recorded example could not be shown: ${(e as Error).message})`));
    });
  return figure;
}

/** The adapter's name fields: GPUAdapter.info where the browser has it, else requestAdapterInfo(). */
async function adapterInfo(
  adapter: GPUAdapter,
): Promise<{ vendor?: string; architecture?: string; device?: string; description?: string }> {
  const a = adapter as GPUAdapter & { info?: GPUAdapterInfo; requestAdapterInfo?: () => Promise<GPUAdapterInfo> };
  try {
    return a.info ?? (await a.requestAdapterInfo?.()) ?? {};
  } catch {
    return {};
  }
}

export interface CheckOptions {
  /** Shown beside the advice when there is no adapter: what the page would have produced. */
  recorded?: Recorded;
}

/**
 * Resolves true when an adapter is available (and, for a CPU fallback adapter, notes on the page that
 * everything will be slow). Otherwise shows the advice in `#message` (or `#status`) and, beside it, the
 * page's recorded example; disables every control (buttons, inputs, selects, the settings panel) and
 * stops forms from submitting, sets `body[data-ready="no-webgpu"]`, and resolves false.
 */
export async function checkWebGPU(options: CheckOptions = {}): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  let adapter: GPUAdapter | null = null;
  try {
    adapter = gpu ? await gpu.requestAdapter() : null;
  } catch {
    adapter = null;
  }
  if (adapter) {
    noteSoftwareAdapter(await adapterInfo(adapter));
    return true;
  }
  const message = messageLine();
  if (message) {
    message.textContent = webgpuAdvice(!gpu);
    message.className = 'error';
    message.setAttribute('role', 'alert');
  }
  if (options.recorded) showRecorded(options.recorded, message);
  for (const el of document.querySelectorAll<HTMLButtonElement | HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(
    'button, input, select, textarea',
  )) {
    el.disabled = true;
  }
  for (const form of document.querySelectorAll('form')) form.addEventListener('submit', (e) => e.preventDefault());
  document.body.dataset.ready = 'no-webgpu';
  return false;
}
