// TensorFlow.js's WebGPU backend as a peer, on the engine's own device so both run on the same GPU in
// the same process. Its kernels are registered under the backend name 'webgpu', so that is the name
// we register (replacing the one TF.js registers for navigator.gpu in browsers).
import * as tf from '@tensorflow/tfjs-core';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { Engine } from 'webgpu-nlp';

export type Tf = typeof tf;

export async function startTfjs(engine: Engine): Promise<Tf> {
  if (tf.findBackend('webgpu')) tf.removeBackend('webgpu');
  const info = { vendor: engine.adapter.vendor, architecture: engine.adapter.architecture } as GPUAdapterInfo;
  tf.registerBackend('webgpu', () => new WebGPUBackend(engine.device, info));
  const ok = await tf.setBackend('webgpu');
  if (!ok) throw new Error('TensorFlow.js could not start its WebGPU backend on this device');
  await tf.ready();
  return tf;
}
