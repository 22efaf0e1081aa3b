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

/**
 * Resolves true when an adapter is available. Otherwise shows the advice in `#message`, disables every
 * control (buttons, inputs, selects, the settings panel) and stops forms from submitting, sets
 * `body[data-ready="no-webgpu"]`, and resolves false.
 */
export async function checkWebGPU(): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  let adapter: GPUAdapter | null = null;
  try {
    adapter = gpu ? await gpu.requestAdapter() : null;
  } catch {
    adapter = null;
  }
  if (adapter) return true;
  const message = document.getElementById('message') ?? document.getElementById('status');
  if (message) {
    message.textContent = webgpuAdvice(!gpu);
    message.className = 'error';
    message.setAttribute('role', 'alert');
  }
  for (const el of document.querySelectorAll<HTMLButtonElement | HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(
    'button, input, select, textarea',
  )) {
    el.disabled = true;
  }
  for (const form of document.querySelectorAll('form')) form.addEventListener('submit', (e) => e.preventDefault());
  document.body.dataset.ready = 'no-webgpu';
  return false;
}
