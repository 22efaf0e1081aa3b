// Runs a command with Dawn pointed at a Vulkan driver: the machine's own (a real GPU) when it has one,
// else SwiftShader from Debian's chromium. WEBGPU_NLP_BACKEND=system|swiftshader overrides the guess.
// The loader reads LD_LIBRARY_PATH at process start, hence a child process.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { INSTALL_HINT, hasSwiftShader, swiftshaderEnv } from './gpu-env.mjs';

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error('usage: node tools/run-with-gpu.mjs <command> [args...]');
  process.exit(2);
}
const hasRealGpu = existsSync('/dev/nvidia0') || existsSync('/dev/dri/renderD128') || process.platform !== 'linux';
const choice = process.env.WEBGPU_NLP_BACKEND ?? (hasRealGpu ? 'system' : 'swiftshader');
let env = { ...process.env };
if (choice === 'swiftshader') {
  if (!hasSwiftShader()) {
    console.error(INSTALL_HINT);
    process.exit(1);
  }
  env = { ...env, ...swiftshaderEnv() };
}
env.WEBGPU_NLP_BACKEND = choice;
const bin = existsSync(`node_modules/.bin/${cmd}`) ? `node_modules/.bin/${cmd}` : cmd;
const r = spawnSync(bin, args, { stdio: 'inherit', env });
process.exit(r.status ?? 1);
