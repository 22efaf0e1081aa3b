// What a result file says about the machine beside the adapter Dawn reports (which names neither the
// driver version nor the Vulkan version): the GPU's name and driver (nvidia-smi, /proc/driver/nvidia,
// vulkaninfo, whichever is there), the Vulkan version (vulkaninfo, else the driver manifest's
// api_version), the loader and manifests the run used, and the commit the bench was built from (the
// kit's kit.json, else git). Every probe is optional and bounded by a timeout.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SystemInfo {
  gpu: string;
  driver: string | null;
  vulkan: string | null;
  /** Where `vulkan` came from: vulkaninfo reports the device's API version, a manifest the driver's. */
  vulkanFrom: 'vulkaninfo' | 'driver manifest' | null;
  loader: string | null;
  icd: string[];
  commit: string | null;
  /** Run from the bench kit (tools/bench-kit.mjs), not the repository. */
  kit: boolean;
  node: string;
}

type Adapter = { vendor: string; architecture: string; device: string; description: string };

/** `nvidia-smi --query-gpu=name,driver_version --format=csv,noheader`: the first GPU's line. */
export function parseNvidiaSmi(text: string): { gpu: string; driver: string } | null {
  const line = text.split('\n').find((l) => l.includes(','));
  if (!line) return null;
  const [gpu, driver] = line.split(',').map((s) => s.trim());
  return gpu && driver ? { gpu, driver } : null;
}

/** /proc/driver/nvidia/version: "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  ...". */
export function parseNvidiaProc(text: string): string | null {
  return /Kernel Module\s+(\d+(?:\.\d+)+)/.exec(text)?.[1] ?? null;
}

/** `vulkaninfo --summary`: the first device's name, API version and driver. */
export function parseVulkaninfo(text: string): { gpu?: string; vulkan?: string; driver?: string } {
  const field = (name: string) => new RegExp(`^\\s*${name}\\s*=\\s*(.+?)\\s*$`, 'm').exec(text)?.[1];
  const driverName = field('driverName');
  const driverInfo = field('driverInfo');
  return {
    gpu: field('deviceName'),
    vulkan: field('apiVersion')?.split(' ')[0],
    driver: driverInfo ? [driverName, driverInfo].filter(Boolean).join(' ') : undefined,
  };
}

/** A driver manifest's (ICD JSON) api_version, or null when the file is not one. */
export function manifestVersion(text: string): string | null {
  try {
    const v = (JSON.parse(text) as { ICD?: { api_version?: unknown } }).ICD?.api_version;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

function output(cmd: string, args: string[], cwd?: string): string | null {
  try {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000, cwd, stdio: ['ignore', 'pipe', 'ignore'] });
    return r.status === 0 ? r.stdout : null;
  } catch {
    return null;
  }
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** The commit the bench runs from: the kit's kit.json, else `git` in the working folder. */
export function benchCommit(kitDir = process.env.WEBGPU_NLP_KIT): string | null {
  if (kitDir) {
    const kit = read(join(kitDir, 'kit.json'));
    if (kit) return (JSON.parse(kit) as { commit?: string }).commit ?? null;
  }
  const head = output('git', ['rev-parse', 'HEAD'])?.trim();
  if (!head) return null;
  const dirty = output('git', ['status', '--porcelain', '--untracked-files=no'])?.trim();
  return dirty ? `${head}+local changes` : head;
}

export function describeSystem(adapter: Adapter, env: NodeJS.ProcessEnv = process.env): SystemInfo {
  const smi = parseNvidiaSmi(output('nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader']) ?? '');
  const proc = existsSync('/proc/driver/nvidia/version') ? parseNvidiaProc(read('/proc/driver/nvidia/version') ?? '') : null;
  const vk = parseVulkaninfo(output('vulkaninfo', ['--summary']) ?? '');
  const icd = (env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES || '').split(':').filter(Boolean);
  const fromManifest = icd.map((f) => manifestVersion(read(f) ?? '')).find(Boolean) ?? null;
  const named = [adapter.vendor, adapter.device || adapter.architecture].filter(Boolean).join(' ');
  return {
    gpu: smi?.gpu ?? vk.gpu ?? (named || 'unknown GPU'),
    driver: smi?.driver ?? proc ?? vk.driver ?? (adapter.description || null),
    vulkan: vk.vulkan ?? fromManifest,
    vulkanFrom: vk.vulkan ? 'vulkaninfo' : fromManifest ? 'driver manifest' : null,
    loader: env.WEBGPU_NLP_VK_LOADER ?? null,
    icd,
    commit: benchCommit(env.WEBGPU_NLP_KIT),
    kit: !!env.WEBGPU_NLP_KIT,
    node: process.version,
  };
}
