// Makes sure Debian's chromium (SwiftShader + the browser for browser and e2e tests) is installed.
// As root it installs it; otherwise it prints the exact command and fails.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CHROMIUM_BIN, hasSwiftShader } from './gpu-env.mjs';

if (hasSwiftShader() && existsSync(CHROMIUM_BIN)) process.exit(0);
const root = typeof process.getuid === 'function' && process.getuid() === 0;
if (!root) {
  console.error("Debian's chromium is missing (it provides SwiftShader for WebGPU without a GPU and the browser for the browser tests).");
  console.error('Install it, then run the tests again:\n\n  sudo apt-get update && sudo apt-get install -y chromium\n');
  process.exit(1);
}
console.log("Installing Debian's chromium (SwiftShader WebGPU and the test browser)...");
execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', { stdio: 'inherit' });
if (!hasSwiftShader()) {
  console.error('chromium was installed but /usr/lib/chromium/vk_swiftshader_icd.json is missing; this Chromium build lacks SwiftShader.');
  process.exit(1);
}
