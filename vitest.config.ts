// Tests: Node (Dawn on SwiftShader) for unit, op-conformance and engine tests; real Chromium (Vitest
// browser mode, Debian's chromium via playwright) for the same op-conformance suite.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { CHROMIUM_ARGS, CHROMIUM_BIN, swiftshaderEnv } from './tools/gpu-env.mjs';

// Set before the test workers fork, so Dawn in each worker loads SwiftShader. WEBGPU_NLP_SYSTEM_VULKAN=1
// keeps the machine's own Vulkan driver (a real GPU) instead.
if (!process.env.WEBGPU_NLP_SYSTEM_VULKAN) Object.assign(process.env, swiftshaderEnv());

// A fresh object per project: Vitest records its instances on it.
const browser = () => ({
  enabled: true,
  headless: true,
  screenshotFailures: false,
  provider: playwright({ launchOptions: { executablePath: CHROMIUM_BIN, args: CHROMIUM_ARGS } }),
  instances: [{ browser: 'chromium' as const }],
});

export default defineConfig({
  test: {
    provide: { plainDevice: false },
    projects: [
      {
        // Bench code imports the library by its package name: here that is the source, not dist/.
        resolve: { alias: { 'webgpu-nlp': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
        test: {
          name: 'node',
          include: ['tests/unit/**/*.test.ts', 'tests/ops/**/*.test.ts', 'tests/node/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          setupFiles: ['tests/setup-node.ts'],
          testTimeout: 180_000,
          hookTimeout: 60_000,
        },
      },
      // Every kernel again on a device from a plain adapter.requestDevice(): WebGPU's default limits
      // (16 KiB workgroup storage, 256 invocations, 128 MiB bindings), no subgroups, no timestamps.
      {
        test: {
          name: 'node (default limits)',
          include: ['tests/ops/**/*.test.ts', 'tests/node/gpt2.test.ts'],
          environment: 'node',
          pool: 'forks',
          setupFiles: ['tests/setup-node.ts'],
          provide: { plainDevice: true },
          testTimeout: 180_000,
          hookTimeout: 60_000,
        },
      },
      // In Chromium on default limits: the kernels whose variant depends on the browser's WGSL features
      // (row reductions, attention's key tile, sampling). The matmul, GEMV and dequant-matmul suites run
      // on default limits in Node above and with Chromium's full adapter below; a fourth pass over them
      // (about 500 s of a 2-core CI's time) would test no code path the other three do not.
      {
        test: {
          name: 'browser (default limits)',
          include: [
            'tests/ops/{attention,attention_decode,sparse_attention,sample}.test.ts',
            // the row kernels
            'tests/ops/{concat,copy,elementwise,embedding,heads,layernorm,mask,noop,normalize,penalty,softmax,topk}.test.ts',
          ],
          provide: { plainDevice: true },
          testTimeout: 180_000,
          hookTimeout: 60_000,
          browser: browser(),
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          testTimeout: 900_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['tests/ops/**/*.test.ts', 'tests/browser/**/*.test.ts'],
          // loadModel's tests fetch models from a local server (tests/helpers/model-server.ts).
          globalSetup: ['tests/browser/model-server.setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 60_000,
          browser: browser(),
        },
      },
    ],
  },
});
