// The landing page's script: the adapter, its features and key limits; without WebGPU, the advice and,
// beside it, the same tables as recorded on SwiftShader (demos/common/recorded/adapter.json).
import { Engine } from './src/index';
import { checkWebGPU } from './demos/common/webgpu-check';
import recordedAdapter from './demos/common/recorded/adapter.json';

type Limits = Record<string, number>;

const bytes = (n: number) =>
  n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(0)} MiB` : `${(n / 1024).toFixed(0)} KiB`;

function row(table: HTMLTableElement, k: string, v: string): void {
  const tr = table.insertRow();
  tr.insertCell().textContent = k;
  const td = tr.insertCell();
  td.textContent = v;
  td.className = 'num';
}

/** Fills the three parts (name, features, limits) the page shows for an adapter. */
function fill(
  parts: { info: HTMLTableElement; features: HTMLElement; limits: HTMLTableElement },
  a: { vendor?: string; architecture?: string; device?: string; description?: string },
  features: [string, boolean][],
  L: Limits,
): void {
  for (const [k, v] of [
    ['Vendor', a.vendor],
    ['Architecture', a.architecture],
    ['Device', a.device],
    ['Description', a.description],
  ] as const)
    row(parts.info, k, v || '(not reported)');
  for (const [name, on] of features) {
    const span = document.createElement('span');
    span.className = on ? 'feat on' : 'feat';
    span.textContent = `${on ? '✓' : '✗'} ${name}`;
    parts.features.append(span);
  }
  row(parts.limits, 'maxStorageBufferBindingSize', bytes(L.maxStorageBufferBindingSize));
  row(parts.limits, 'maxBufferSize', bytes(L.maxBufferSize));
  row(parts.limits, 'maxComputeWorkgroupStorageSize', bytes(L.maxComputeWorkgroupStorageSize));
  row(parts.limits, 'maxComputeInvocationsPerWorkgroup', String(L.maxComputeInvocationsPerWorkgroup));
  row(parts.limits, 'maxComputeWorkgroupSizeX / Y', `${L.maxComputeWorkgroupSizeX} / ${L.maxComputeWorkgroupSizeY}`);
  row(parts.limits, 'maxComputeWorkgroupsPerDimension', String(L.maxComputeWorkgroupsPerDimension));
  row(parts.limits, 'maxStorageBuffersPerShaderStage', String(L.maxStorageBuffersPerShaderStage));
}

const FEATURES = ['subgroups', 'shader-f16', 'timestamp-query'];
const status = document.getElementById('status')!;
const recorded = {
  caption: `this adapter table for SwiftShader (a CPU), recorded ${recordedAdapter.recorded}.`,
  render(): Node {
    const box = document.createElement('div');
    const parts = {
      info: document.createElement('table'),
      features: document.createElement('div'),
      limits: document.createElement('table'),
    };
    box.append(parts.info, parts.features, parts.limits);
    fill(
      parts,
      recordedAdapter,
      FEATURES.map((f) => [f, recordedAdapter.features.includes(f)]),
      recordedAdapter.limits,
    );
    return box;
  },
};

try {
  // Without an adapter: advice for this browser in #status, the recorded tables beside it.
  if (await checkWebGPU({ recorded })) {
    const engine = await Engine.create();
    status.textContent = 'WebGPU is available. The engine asked the adapter for its largest limits:';
    fill(
      {
        info: document.getElementById('info') as HTMLTableElement,
        features: document.getElementById('features')!,
        limits: document.getElementById('limits') as HTMLTableElement,
      },
      engine.adapter,
      [
        ['subgroups', engine.features.subgroups],
        ['shader-f16', engine.features.shaderF16],
        ['timestamp-query', engine.features.timestampQuery],
      ],
      engine.limits as unknown as Limits,
    );
    document.getElementById('adapter')!.hidden = false;
    document.body.dataset.ready = 'true';
  }
} catch (e) {
  status.className = 'error';
  status.textContent = (e as Error).message;
  document.body.dataset.ready = 'error';
}
