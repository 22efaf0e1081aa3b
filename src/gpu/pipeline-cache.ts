// Compute pipelines cached by (shader, entry point, override constants): never by exact shape, so a
// new sequence length reuses the pipeline. Bind group layouts are explicit, built from reflection.
import type { GPUContext } from './engine';
import { GPUOpError, UnsupportedError } from '../errors';
import { fnv1a, type ShaderSource } from '../wgsl/compose';
import { reflectShader, type ReflectedEntry } from '../wgsl/reflect';

export type { ShaderSource };

export interface CompiledKernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  entry: ReflectedEntry;
  key: string;
}

export function pipelineKey(shader: string, entry: string, constants: Record<string, number>): string {
  const c = Object.keys(constants)
    .sort()
    .map((k) => `${k}=${constants[k]}`)
    .join(',');
  return `${shader}:${entry}{${c}}`;
}

export class PipelineCache {
  private modules = new Map<string, GPUShaderModule>();
  private layouts = new Map<string, GPUBindGroupLayout>();
  private pipelines = new Map<string, Promise<CompiledKernel>>();
  private watchers = new Set<(key: string, kernel: Promise<CompiledKernel>) => void>();

  constructor(private readonly engine: GPUContext) {}

  get size(): number {
    return this.pipelines.size;
  }

  /**
   * Calls `fn` with every pipeline requested (new or cached) until the returned function is called:
   * how a warmup counts the kernels its plans need and reports each one ready.
   */
  watch(fn: (key: string, kernel: Promise<CompiledKernel>) => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  /** The pipeline for `entry` of `shader` with `constants`, created (asynchronously) on first use. */
  get(shader: ShaderSource, entryName: string, constants: Record<string, number>): Promise<CompiledKernel> {
    const key = pipelineKey(shader.name, entryName, constants);
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.create(shader, entryName, constants, key);
      p.catch(() => this.pipelines.delete(key));
      this.pipelines.set(key, p);
    }
    for (const w of this.watchers) w(key, p);
    return p;
  }

  private async create(shader: ShaderSource, entryName: string, constants: Record<string, number>, key: string): Promise<CompiledKernel> {
    const { engine } = this;
    engine.assertAlive(key);
    const reflected = reflectShader(shader.code);
    const entry = reflected.entries.get(entryName);
    if (!entry) throw new UnsupportedError(`${key}: shader ${shader.name}.wgsl has no compute entry point '${entryName}'`);
    for (const name of Object.keys(constants)) {
      if (!reflected.overrides.has(name)) throw new UnsupportedError(`${key}: shader ${shader.name}.wgsl declares no override '${name}'`);
    }
    const device = engine.device;
    // Modules are cached by their code: two variants with equal code share one, and a changed file
    // can never be served from a stale module of the same name.
    const hash = shader.hash ?? fnv1a(shader.code);
    let module = this.modules.get(hash);
    if (!module) {
      module = device.createShaderModule({ label: `${shader.name}.wgsl`, code: shader.code });
      engine.stats.shaderModulesCreated++;
      this.modules.set(hash, module);
    }
    const layoutKey = `${shader.name}:${entryName}`;
    let layout = this.layouts.get(layoutKey);
    if (!layout) {
      layout = device.createBindGroupLayout({
        label: `${layoutKey} layout`,
        entries: entry.bindings.map((b) => ({ binding: b.binding, visibility: 4 /* COMPUTE */, buffer: { type: b.kind } })),
      });
      this.layouts.set(layoutKey, layout);
    }
    const descriptor: GPUComputePipelineDescriptor = {
      label: key,
      layout: device.createPipelineLayout({ label: `${key} pipeline layout`, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: entryName, constants },
    };
    let pipeline: GPUComputePipeline;
    try {
      pipeline = await device.createComputePipelineAsync(descriptor);
    } catch (e) {
      const info = await module.getCompilationInfo();
      const errors = info.messages
        .filter((m) => m.type === 'error')
        .map((m) => `${shader.locate ? shader.locate(m.lineNum) : `${shader.name}.wgsl:${m.lineNum}`}:${m.linePos}: ${m.message}`);
      this.modules.delete(hash);
      throw new GPUOpError(key, 'compilation', errors.length ? errors.join('\n') : (e as Error).message);
    }
    engine.stats.pipelinesCreated++;
    return { pipeline, layout, entry, key };
  }
}
