// onnxruntime-web (the engine under transformers.js) as a peer, on its WebGPU execution provider, in
// the browser only: its Node build has no WebGPU, so the CLI drives the bench page in headless
// Chromium instead (bench/browser.ts). The graphs are the small files tools/make_onnx_models.py
// writes into bench/peers/onnx/ (no weights inside; every input is fed from the CPU, and outputs
// come back to the CPU, the way an app would call it).
import type * as OrtModule from 'onnxruntime-web/webgpu';

export type Ort = typeof OrtModule;
export type OrtSession = OrtModule.InferenceSession;

const MODELS = {
  matmul: new URL('./onnx/matmul.onnx', import.meta.url),
  softmax: new URL('./onnx/softmax.onnx', import.meta.url),
  layernorm: new URL('./onnx/layernorm.onnx', import.meta.url),
  gqa: new URL('./onnx/gqa.onnx', import.meta.url),
  mha: new URL('./onnx/mha.onnx', import.meta.url),
  attention_unfused: new URL('./onnx/attention_unfused.onnx', import.meta.url),
};
export type OrtModel = keyof typeof MODELS;

/** The device handed to every ORT session (its WebGPU EP option), or undefined to let ORT make its own. */
let ortDevice: GPUDevice | undefined;

/** The execution-provider list every ORT session of the bench uses: WebGPU, on `ortDevice` when one is set. */
export function ortProviders(): OrtModule.InferenceSession.ExecutionProviderConfig[] {
  return ortDevice ? [{ name: 'webgpu', device: ortDevice } as OrtModule.InferenceSession.ExecutionProviderConfig] : ['webgpu'];
}

/**
 * Loads onnxruntime-web's WebGPU build (single-threaded wasm: the page is not cross-origin isolated).
 * `subgroups: false` hands it a device made without any subgroup feature (every other feature and
 * the adapter's limits kept), for adapters whose subgroups ORT's kernels mishandle: with 1.30 in
 * Chromium 156 on SwiftShader (4-lane subgroups) its flash attention (GroupQueryAttention,
 * MultiHeadAttention) is wrong from the fifth query row on with subgroups (max error 0.43 at T=64)
 * and right without them (1.2e-7). `subgroup-size-control` must go too: Chromium turns `subgroups`
 * on for a device that asks for it, which is how earlier runs with this option still had subgroups.
 * Since 1.2x (the native WebGPU EP built to wasm) ORT overwrites `env.webgpu.device` with the device it
 * creates; a device of the app's own goes in the session's EP options (`{ name: 'webgpu', device }`).
 */
export async function startOrt(options: { subgroups?: boolean } = {}): Promise<Ort> {
  if (typeof window === 'undefined') throw new Error('onnxruntime-web has WebGPU only in a browser; run `npm run bench:browser`');
  const ort = await import('onnxruntime-web/webgpu');
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  ortDevice = undefined;
  if (options.subgroups === false) {
    const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new Error('onnxruntime-web: no WebGPU adapter');
    const features = [...adapter.features].filter((f) => !f.includes('subgroup')) as GPUFeatureName[];
    const keys = [
      'maxBufferSize',
      'maxStorageBufferBindingSize',
      'maxComputeWorkgroupStorageSize',
      'maxComputeInvocationsPerWorkgroup',
      'maxComputeWorkgroupSizeX',
      'maxComputeWorkgroupSizeY',
      'maxComputeWorkgroupSizeZ',
      'maxComputeWorkgroupsPerDimension',
      'maxStorageBuffersPerShaderStage',
    ] as const;
    const requiredLimits = Object.fromEntries(keys.map((k) => [k, adapter.limits[k]]));
    ortDevice = await adapter.requestDevice({ requiredFeatures: features, requiredLimits });
    if (ortDevice.features.has('subgroups')) throw new Error('onnxruntime-web: the device made without subgroup features has subgroups');
  }
  return ort;
}

/** A session over one of the bench's graphs; outputs named in `gpuOutputs` stay on the GPU (not read back). */
export async function ortSession(ort: Ort, model: OrtModel, gpuOutputs: string[] = []): Promise<OrtSession> {
  const res = await fetch(MODELS[model]);
  if (!res.ok) throw new Error(`onnxruntime-web: could not fetch ${model}.onnx (HTTP ${res.status})`);
  return ort.InferenceSession.create(new Uint8Array(await res.arrayBuffer()), {
    executionProviders: ortProviders(),
    ...(gpuOutputs.length ? { preferredOutputLocation: Object.fromEntries(gpuOutputs.map((n) => [n, 'gpu-buffer' as const])) } : {}),
  });
}

/** A float32 tensor from CPU data. */
export function ortTensor(ort: Ort, data: Float32Array, dims: number[]): OrtModule.Tensor {
  return new ort.Tensor('float32', data, dims);
}
