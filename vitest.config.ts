// Tests: Node (Dawn on SwiftShader) for unit, op-conformance and engine tests; real Chromium (Vitest
// browser mode, Debian's chromium via playwright) for the same op-conformance suite.
import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { CHROMIUM_ARGS, CHROMIUM_BIN, swiftshaderEnv } from './tools/gpu-env.mjs';

// Set before the test workers fork, so Dawn in each worker loads SwiftShader. WEBGPU_NLP_SYSTEM_VULKAN=1
// keeps the machine's own Vulkan driver (a real GPU) instead.
if (!process.env.WEBGPU_NLP_SYSTEM_VULKAN) Object.assign(process.env, swiftshaderEnv());

export default defineConfig({
  test: {
    projects: [
      {
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
          testTimeout: 180_000,
          hookTimeout: 60_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({ launchOptions: { executablePath: CHROMIUM_BIN, args: CHROMIUM_ARGS } }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
