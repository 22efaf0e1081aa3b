// The test fixture: an Engine on whatever WebGPU this environment has (Dawn in Node, navigator.gpu in
// Chromium). No adapter is a failure with the fix in the message, never a skip.
// The `plainDevice` projects (vitest.config.ts) run the same tests on a device from a plain
// `adapter.requestDevice()`: WebGPU's default limits and no optional features, as an app's own device.
import { afterAll, beforeAll, inject } from 'vitest';
import { Engine, type EngineOptions } from '../../src/index';

declare module 'vitest' {
  export interface ProvidedContext {
    plainDevice: boolean;
  }
}

/** True in the projects that run every test on a device with WebGPU's default limits. */
export const plainDevice = !!inject('plainDevice');

export async function createTestEngine(options: EngineOptions = {}): Promise<Engine> {
  const gpu = (globalThis as { __webgpuNlpGPU?: GPU }).__webgpuNlpGPU ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
  try {
    if (plainDevice && !options.device && gpu) {
      const adapter = await gpu.requestAdapter();
      if (adapter) return await Engine.create({ gpu, device: await adapter.requestDevice(), label: 'test (default limits)', ...options });
    }
    return await Engine.create({ gpu, label: 'test', ...options });
  } catch (e) {
    throw new Error(
      `${(e as Error).message}\nFix: run the tests with \`npm test\`, which installs Debian's chromium (SwiftShader) when run as root ` +
        'and points Dawn at it; or as root: apt-get update && apt-get install -y chromium',
    );
  }
}

/**
 * Runs `body` inside a validation error scope and asserts nothing was caught; the engine and every
 * resource it made are destroyed afterwards.
 */
export async function withEngine<T>(body: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await createTestEngine();
  engine.device.pushErrorScope('validation');
  try {
    const result = await body(engine);
    const error = await engine.device.popErrorScope();
    if (error) throw new Error(`WebGPU validation error during the test: ${error.message}`);
    return result;
  } finally {
    engine.dispose();
  }
}

/**
 * One engine for a test file: created before its first test, disposed after its last. Call at the top
 * level of the file; `engine()` inside a test returns it.
 */
export function fileEngine(options: EngineOptions = {}): () => Engine {
  let engine: Engine | undefined;
  beforeAll(async () => {
    engine = await createTestEngine(options);
  });
  afterAll(() => engine?.dispose());
  return () => {
    if (!engine) throw new Error('fileEngine(): the engine is made in beforeAll; call engine() inside a test');
    return engine;
  };
}

/**
 * Runs `body` on an engine with subgroups turned off, so the reduction kernels take their
 * workgroup-memory paths (lib/reduce, lib/maxsum) even where the adapter has subgroups; disposed after.
 */
export async function withoutSubgroups<T>(body: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await createTestEngine({ disableFeatures: ['subgroups'] });
  try {
    if (engine.features.subgroups) throw new Error("withoutSubgroups: the engine still reports 'subgroups'");
    return await body(engine);
  } finally {
    engine.dispose();
  }
}
