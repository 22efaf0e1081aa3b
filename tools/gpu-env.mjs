// Where WebGPU comes from on a machine without a GPU: SwiftShader's Vulkan driver as shipped in
// Debian's chromium package. Used by the test config, the bench CLI and the e2e tests.
import { existsSync } from 'node:fs';

export const CHROMIUM_DIR = '/usr/lib/chromium';
export const CHROMIUM_BIN = '/usr/bin/chromium';
export const SWIFTSHADER_ICD = `${CHROMIUM_DIR}/vk_swiftshader_icd.json`;

/** Flags for headless Chromium with WebGPU on SwiftShader and no network chatter. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function hasSwiftShader() {
  return existsSync(SWIFTSHADER_ICD) && existsSync(`${CHROMIUM_DIR}/libvulkan.so.1`);
}

/** Environment for Dawn (the `webgpu` npm package) to run on SwiftShader. Empty when it is absent. */
export function swiftshaderEnv() {
  if (!hasSwiftShader()) return {};
  return {
    VK_ICD_FILENAMES: SWIFTSHADER_ICD,
    LD_LIBRARY_PATH: [CHROMIUM_DIR, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp',
  };
}

export const INSTALL_HINT =
  "WebGPU needs a Vulkan driver. On a machine without a GPU install Debian's chromium, which ships SwiftShader: " +
  'as root run `apt-get update && apt-get install -y chromium` (npm test does this itself when run as root).';
