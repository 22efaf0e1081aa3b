// Device acquisition: the adapter, the limits and features asked for, and what a GPUContext is built
// from. The engine options and the adapter summary types live here too.
import { UnsupportedError } from '../errors';

/** Best override constants per (adapter, op, shape class), as measured by the autotuner. */
export type TuningTable = Record<string, Record<string, number>>;

export interface EngineOptions {
  /** A GPU object: `navigator.gpu` (the default in browsers and workers) or Dawn's `create([...])` in Node. */
  gpu?: GPU;
  /** A device the host app already owns. The engine never destroys it. */
  device?: GPUDevice;
  powerPreference?: GPUPowerPreference;
  /**
   * 'max' (the default) asks the adapter for its largest storage-binding, buffer and workgroup limits;
   * 'default' keeps WebGPU's defaults (16 KiB workgroup storage, 256 invocations, 128 MiB bindings, 8
   * storage buffers per stage), as a phone or an app's plain requestDevice() would. Every op runs on both.
   */
  limits?: 'max' | 'default';
  /** Tile configurations measured by the autotuner for this adapter. */
  tuning?: TuningTable;
  /** Most bytes one plan's buffers may take; compile() refuses plans above it before allocating. */
  memoryBudget?: number;
  /**
   * Bind at most this many bytes per buffer, below the device's maxStorageBufferBindingSize (models split
   * larger weights, as they must on adapters whose limit is small; tests use it to exercise that path).
   */
  maxBindingSize?: number;
  /** Most idle bytes the buffer pool keeps for reuse (default 256 MiB); older idle buffers are destroyed. */
  poolBytes?: number;
  /** Turn features off even where the adapter has them (e.g. to test the non-subgroup kernels). */
  disableFeatures?: (keyof EngineFeatures)[];
  label?: string;
}

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface EngineFeatures {
  subgroups: boolean;
  shaderF16: boolean;
  timestampQuery: boolean;
  /** The packed_4x8_integer_dot_product WGSL language feature (dot4I8Packed). */
  packedDot4: boolean;
  /**
   * The smallest subgroup the adapter may run (GPUAdapterInfo.subgroupMinSize): 32 on NVIDIA, 4 on
   * SwiftShader. 0 when subgroups are off or the browser does not say; kernels that split one dot
   * product over a group of subgroup lanes need at least that many lanes per subgroup.
   */
  subgroupMinSize: number;
  /** The subgroup_id WGSL language feature (a subgroup's number within its workgroup). */
  subgroupId: boolean;
}

export interface DeviceLostInfo {
  reason: string;
  message: string;
}

export interface EngineStats {
  buffersCreated: number;
  pipelinesCreated: number;
  bindGroupsCreated: number;
  shaderModulesCreated: number;
}

/** Limits requested at the adapter's maximum: large models need big bindings and buffers. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

const WANTED_FEATURES: GPUFeatureName[] = ['subgroups' as GPUFeatureName, 'shader-f16', 'timestamp-query'];

/** What a GPUContext is made from: see GPUContext.open(). */
export interface ContextParts {
  device: GPUDevice;
  adapter: AdapterSummary;
  ownsDevice: boolean;
  label: string;
  options: EngineOptions;
  languageFeatures: ReadonlySet<string> | undefined;
  info: GPUAdapterInfo | undefined;
  /**
   * The GPU object and adapter the device came from, held as long as the context lives: Dawn in Node
   * tears the device down (and may abort the process) if its GPU object is garbage-collected, also
   * when an app passed its own device and kept only the engine.
   */
  keepAlive: unknown[];
}

/**
 * Acquires a device: the one given, or a new one from `gpu` (default `navigator.gpu`), asking the
 * adapter for its largest storage-binding, buffer and workgroup limits.
 */
export async function acquire(options: EngineOptions): Promise<ContextParts> {
  const label = options.label ?? 'webgpu-nlp';
  if (options.device) {
    const d = options.device;
    const info = (d as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    const gpu = options.gpu ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
    return {
      device: d,
      adapter: summarize(info),
      ownsDevice: false,
      label,
      options,
      languageFeatures: gpu?.wgslLanguageFeatures,
      info,
      keepAlive: [gpu, d],
    };
  }
  const gpu = options.gpu ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
  if (!gpu) {
    throw new UnsupportedError(
      'WebGPU is not available: navigator.gpu is undefined. In Chrome, use version 113 or later (on Linux start it with ' +
        "--enable-unsafe-webgpu --enable-features=Vulkan); in Node, pass Dawn's GPU object: " +
        "Engine.create({ gpu: create(['backend=vulkan']) }) from the 'webgpu' npm package.",
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
  if (!adapter) {
    throw new UnsupportedError(
      'WebGPU: no adapter found. In a browser, WebGPU is turned off or the GPU is blocklisted (Chrome: see chrome://gpu). ' +
        'In Node on a machine without a GPU, install a Vulkan software driver: as root run ' +
        '`apt-get install -y chromium` (it ships SwiftShader) and set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json ' +
        'LD_LIBRARY_PATH=/usr/lib/chromium (the test and bench scripts do this for you).',
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of options.limits === 'default' ? [] : WANTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ label: `${label} device`, requiredLimits, requiredFeatures });
  return {
    device,
    adapter: summarize(adapter.info),
    ownsDevice: true,
    label,
    options,
    languageFeatures: gpu.wgslLanguageFeatures,
    info: adapter.info,
    keepAlive: [gpu, adapter],
  };
}

function summarize(info: GPUAdapterInfo | undefined): AdapterSummary {
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
  };
}
