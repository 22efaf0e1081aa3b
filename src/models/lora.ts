// LoRA adapters at inference, unmerged, on any base precision: W' = W + scale · B·A with A [r, in] and
// B [out, r] as PEFT saves them (base_model.model.<module>.lora_A.weight / lora_B.weight), scale =
// lora_alpha / r (or / √r with use_rslora; rank_pattern and alpha_pattern per module), or as
// llama.cpp's convert_lora_to_gguf writes them (general.type 'adapter', adapter.lora.alpha, tensors
// `<base tensor>.lora_a` / `.lora_b`, llama's q/k rows in llama.cpp's RoPE order).
//
// How it runs: the model lists its linear layers as sites (a fused projection such as Llama's q/k/v or
// interleaved gate/up is one site of several PEFT modules, each at its rows). An adapter is, per site,
// one A [R, in] (its modules' A rows stacked) and one B [out, R] (each module's B, scale folded in, at
// its rows and rank columns, zero elsewhere): x·Aᵀ and then ·Bᵀ are two thin matmuls (GEMVs when
// decoding) whose result enters the base matmul's epilogue as its delta, before bias and activation,
// whatever format the base weights have. Plans bind a slot: tensors of an adapter's shapes, shared by
// every adapter of the same shapes, into which the chosen adapter is copied on the GPU just before a
// run (in the engine's queue, so runs and copies keep their order): switching adapters recompiles
// nothing. Slots are per shape signature and live while an adapter of that signature is loaded.
import { ArgumentError, BusyError, DisposedError, LimitError, ShapeError, UnsupportedError } from '../errors';
import type { GPUContext } from '../gpu/engine';
import type { Tensor } from '../gpu/tensor';
import type { Graph, SymbolicTensor } from '../graph/graph';
import { GGUFFile } from '../io/gguf';
import { SafetensorsFile, duplicateJSONKey } from '../io/safetensors';
import { QuantizedTensor, dequantize, quantizeCPU } from '../ops/quantize';
import { Linear } from './linear';
import { f32Matrix, unpermuteRoPE } from './matrix';

/** The fields of PEFT's adapter_config.json that matter here (others are ignored). */
export interface LoraConfig {
  peft_type?: string;
  r?: number;
  lora_alpha?: number;
  target_modules?: string[] | string | null;
  use_rslora?: boolean;
  rank_pattern?: Record<string, number>;
  alpha_pattern?: Record<string, number>;
  fan_in_fan_out?: boolean;
  bias?: string;
  use_dora?: boolean;
  modules_to_save?: string[] | null;
  [key: string]: unknown;
}

export interface LoadAdapterOptions {
  /** How A and B are stored on the GPU: 'f32', or 'f16' (half the bytes). Default: f16 for F16 / BF16 files, else f32. */
  dtype?: 'f32' | 'f16';
}

/** One PEFT module inside a site: its output rows are site rows offset + j · stride. */
export interface LoraPart {
  /** The module's path in the base model, as PEFT names it without 'base_model.model.' (e.g. 'model.layers.0.self_attn.q_proj'). */
  module: string;
  /** Other accepted spellings of the path (e.g. GPT-2's with and without 'transformer.'). */
  aliases?: string[];
  /** The base weight's name in a GGUF file (e.g. 'blk.0.attn_q.weight'), for llama.cpp adapters. */
  gguf?: string;
  rows: number;
  offset: number;
  stride: number;
  /** A GGUF adapter's B rows are in llama.cpp's interleaved RoPE order over this many heads. */
  ropeHeads?: number;
}

/** A linear layer of the base model adapters can reach: y = x·Wᵀ, x [.., K], y [.., N] before any activation. */
export interface LoraSite {
  key: string;
  K: number;
  N: number;
  parts: LoraPart[];
  linear: Linear;
}

/** What the GPT page shows of an adapter. */
export interface AdapterInfo {
  name: string;
  format: 'peft' | 'gguf';
  /** The config's r (PEFT) or the largest rank (GGUF); per-module ranks in `ranks`. */
  rank: number;
  alpha: number;
  rslora: boolean;
  /** The module kinds adapted, e.g. ['q_proj', 'v_proj'] (GGUF: 'attn_q', …). */
  targetModules: string[];
  /** Rank per adapted module path. */
  ranks: Record<string, number>;
  /** Adapter parameters (r · (in + out) per module). */
  parameters: number;
  /** GPU bytes of the adapter's A and B (with a fused site's zero blocks). */
  byteLength: number;
  dtype: 'f32' | 'f16';
}

interface SiteWeights {
  /** [R, K], the modules' A rows stacked. */
  A: Float32Array;
  /** [N, R], each module's B · scale at its rows and rank columns. */
  B: Float32Array;
  R: number;
}

interface SitePair {
  A: Linear;
  B: Linear;
}

/** An adapter uploaded: its own A and B per site (the source of slot copies) and its slot signature. */
interface Adapter {
  info: AdapterInfo;
  weights: Map<string, SitePair>;
  signature: string;
  users: number;
  serial: number;
}

interface Slot {
  id: number;
  signature: string;
  pairs: Map<string, SitePair>;
  /** The adapter whose weights the slot holds (as of the last copy enqueued). */
  holds: Adapter | null;
}

/** A selection for one run: the slot to bind and the adapter that must be in it. */
export interface AdapterSelection {
  adapter: Adapter;
  slot: Slot;
  /** Plan key suffix: plans are per slot signature, not per adapter. */
  key: string;
}

const pairTensors = (p: SitePair): Tensor[] =>
  [p.A, p.B].flatMap((l) => (l.weight instanceof QuantizedTensor ? [l.weight.qweight] : [l.weight]));

/** The rank or alpha a PEFT pattern gives `module` (first matching key, as PEFT's get_pattern_key), else `dflt`. */
function patternValue(pattern: Record<string, number> | undefined, module: string, dflt: number): number {
  for (const [key, v] of Object.entries(pattern ?? {})) if (new RegExp(`^(.*\\.)?${key}$`).test(module)) return v;
  return dflt;
}

/** Whether PEFT's target_modules selects `module`: a regex string fully matched, or a list of name suffixes. */
function targets(target: LoraConfig['target_modules'], module: string): boolean {
  if (target === undefined || target === null) return true;
  if (typeof target === 'string') return target === 'all-linear' || new RegExp(`^(?:${target})$`).test(module);
  return target.some((t) => module === t || module.endsWith(`.${t}`));
}

function parseConfig(config: unknown, where: string): LoraConfig {
  let c = config;
  if (typeof c === 'string') {
    const dup = duplicateJSONKey(c);
    if (dup !== null) throw new ShapeError(`${where}: adapter_config.json names '${dup}' twice`);
    try {
      c = JSON.parse(c);
    } catch (e) {
      throw new ArgumentError(`${where}: adapter_config.json is not valid JSON (${(e as Error).message})`);
    }
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c))
    throw new ArgumentError(`${where}: the adapter config must be an object or the text of adapter_config.json`);
  const cfg = c as LoraConfig;
  if (cfg.peft_type !== undefined && cfg.peft_type !== 'LORA')
    throw new UnsupportedError(`${where}: peft_type '${cfg.peft_type}' is not supported; only LORA adapters are`);
  if (cfg.use_dora) throw new UnsupportedError(`${where}: use_dora (DoRA) is not supported; only plain LoRA is`);
  if (Array.isArray(cfg.modules_to_save) && cfg.modules_to_save.length)
    throw new UnsupportedError(`${where}: modules_to_save (${cfg.modules_to_save.join(', ')}) is not supported: it replaces whole modules`);
  if (cfg.bias !== undefined && cfg.bias !== 'none')
    throw new UnsupportedError(`${where}: bias '${cfg.bias}' is not supported; only bias "none" is`);
  for (const f of ['lora_bias', 'use_qalora'] as const) if (cfg[f]) throw new UnsupportedError(`${where}: ${f} is not supported`);
  if (Array.isArray(cfg.target_parameters) && cfg.target_parameters.length)
    throw new UnsupportedError(`${where}: target_parameters is not supported`);
  if (!(Number.isInteger(cfg.r) && (cfg.r as number) >= 1)) throw new ArgumentError(`${where}: r must be a positive integer, got ${cfg.r}`);
  if (!(typeof cfg.lora_alpha === 'number' && Number.isFinite(cfg.lora_alpha)))
    throw new ArgumentError(`${where}: lora_alpha must be a finite number, got ${cfg.lora_alpha}`);
  for (const f of ['rank_pattern', 'alpha_pattern'] as const) {
    const p = cfg[f];
    if (
      p !== undefined &&
      p !== null &&
      (typeof p !== 'object' || Object.values(p).some((v) => typeof v !== 'number' || !Number.isFinite(v)))
    )
      throw new ArgumentError(`${where}: ${f} must map module patterns to numbers`);
  }
  return cfg;
}

/** One module's A [r, in] and B [out, r] and scale, before placement into its site. */
interface ModuleWeights {
  part: LoraPart;
  site: LoraSite;
  name: string;
  A: Float32Array;
  B: Float32Array;
  r: number;
  scale: number;
}

/** Places modules into per-site A and B (scale folded into B). */
function assemble(mods: ModuleWeights[]): Map<string, SiteWeights> {
  const bySite = new Map<LoraSite, ModuleWeights[]>();
  for (const m of mods) bySite.set(m.site, [...(bySite.get(m.site) ?? []), m]);
  const out = new Map<string, SiteWeights>();
  for (const [site, list] of bySite) {
    list.sort((a, b) => site.parts.indexOf(a.part) - site.parts.indexOf(b.part));
    const R = list.reduce((s, m) => s + m.r, 0);
    const A = new Float32Array(R * site.K);
    const B = new Float32Array(site.N * R);
    let r0 = 0;
    for (const m of list) {
      A.set(m.A, r0 * site.K);
      for (let j = 0; j < m.part.rows; j++) {
        const row = m.part.offset + j * m.part.stride;
        for (let c = 0; c < m.r; c++) B[row * R + r0 + c] = m.B[j * m.r + c] * m.scale;
      }
      r0 += m.r;
    }
    out.set(site.key, { A, B, R });
  }
  return out;
}

/** The adapters of one model, their slots, and the graph side (delta) for the slot a plan binds. */
export class AdapterSet {
  private readonly adapters = new Map<string, Adapter>();
  private readonly slots = new Map<string, Slot>();
  private nextSlot = 0;
  private loads = 0;
  private disposed = false;

  constructor(
    private readonly engine: GPUContext,
    /** The model's name for messages. */
    private readonly model: string,
    /** The model's sites (built on first use) and its GGUF architectures, null where adapters are not supported. */
    private readonly describe: () => { sites: LoraSite[]; ggufArch: string[] } | null,
    /** Drops the plans bound to a slot that goes away. */
    private readonly dropPlans: (keySuffix: string) => void,
  ) {}

  private cachedSites: {
    sites: LoraSite[];
    byModule: Map<string, [LoraSite, LoraPart]>;
    byGGUF: Map<string, [LoraSite, LoraPart]>;
    ggufArch: string[];
  } | null = null;

  private sites(where: string) {
    if (this.cachedSites) return this.cachedSites;
    const d = this.describe();
    if (!d) throw new UnsupportedError(`${where}: ${this.model} does not take LoRA adapters`);
    const byModule = new Map<string, [LoraSite, LoraPart]>();
    const byGGUF = new Map<string, [LoraSite, LoraPart]>();
    for (const s of d.sites) {
      for (const p of s.parts) {
        for (const m of [p.module, ...(p.aliases ?? [])]) byModule.set(m, [s, p]);
        if (p.gguf) byGGUF.set(p.gguf, [s, p]);
      }
    }
    this.cachedSites = { sites: d.sites, byModule, byGGUF, ggufArch: d.ggufArch };
    return this.cachedSites;
  }

  /** A tag that differs for every adapter loaded (a reloaded name included), for KV-cache reuse. */
  tag(name: string): string {
    const a = this.adapters.get(name);
    return a ? `lora:${a.serial}` : `lora:missing:${name}`;
  }

  get names(): string[] {
    return [...this.adapters.keys()];
  }

  info(name: string): AdapterInfo {
    const a = this.adapters.get(name);
    if (!a)
      throw new ArgumentError(`${this.model}.adapterInfo: no adapter '${name}' is loaded (loaded: ${this.names.join(', ') || 'none'})`);
    return structuredClone(a.info);
  }

  /**
   * PEFT (adapter_model.safetensors + adapter_config.json) or llama.cpp GGUF (config in the file).
   * Everything is checked before anything is uploaded; a failed load frees what it allocated.
   */
  async load(name: string, bytes: Uint8Array | ArrayBuffer, config?: unknown, options: LoadAdapterOptions = {}): Promise<void> {
    const where = `${this.model}.loadAdapter`;
    if (this.disposed) throw new DisposedError(`${where}: the model was disposed`);
    if (typeof name !== 'string' || name === '') throw new ArgumentError(`${where}: the adapter name must be a non-empty string`);
    if (this.adapters.has(name))
      throw new ArgumentError(`${where}: an adapter named '${name}' is loaded already; unloadAdapter('${name}') first`);
    if (!(bytes instanceof Uint8Array || bytes instanceof ArrayBuffer))
      throw new ArgumentError(`${where}: the adapter bytes must be a Uint8Array or an ArrayBuffer`);
    if (options.dtype !== undefined && options.dtype !== 'f32' && options.dtype !== 'f16')
      throw new ArgumentError(`${where}: dtype must be 'f32' or 'f16', got ${JSON.stringify(options.dtype)}`);
    const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    const isGGUF = u8.length >= 4 && u8[0] === 0x47 && u8[1] === 0x47 && u8[2] === 0x55 && u8[3] === 0x46; // 'GGUF'
    const parsed = isGGUF ? this.readGGUF(name, u8, where) : this.readPEFT(name, u8, config, where);
    const dtype = options.dtype ?? parsed.dtype;
    const weights = assemble(parsed.modules);
    const { sites } = this.sites(where);
    // Sizes before allocating: every tensor within a binding.
    let bytesTotal = 0;
    for (const s of sites) {
      const w = weights.get(s.key);
      if (!w) continue;
      const per = dtype === 'f16' ? 2 : 4;
      for (const [what, n] of [
        ['A', w.R * s.K],
        ['B', s.N * w.R],
      ] as const) {
        if (n * per > this.engine.maxBindingSize)
          throw new LimitError(
            `${where}: '${name}' ${s.key} ${what} needs ${n * per} bytes, above the device's ${this.engine.maxBindingSize}-byte binding limit`,
          );
      }
      bytesTotal += (w.R * s.K + s.N * w.R) * per;
    }
    const uploaded = new Map<string, SitePair>();
    try {
      for (const s of sites) {
        const w = weights.get(s.key);
        if (w) uploaded.set(s.key, await this.upload(s, w.R, w.A, w.B, dtype, `lora ${name} ${s.key}`));
      }
    } catch (e) {
      for (const p of uploaded.values()) for (const l of [p.A, p.B]) l.dispose();
      throw e;
    }
    const signature = `${dtype}|${sites
      .filter((s) => weights.has(s.key))
      .map((s) => `${s.key}:${weights.get(s.key)!.R}`)
      .join(',')}`;
    const ranks: Record<string, number> = {};
    for (const m of parsed.modules) ranks[m.name] = m.r;
    const info: AdapterInfo = {
      name,
      format: isGGUF ? 'gguf' : 'peft',
      rank: parsed.rank,
      alpha: parsed.alpha,
      rslora: parsed.rslora,
      targetModules: [...new Set(parsed.modules.map((m) => m.name.split('.').at(-1)!))],
      ranks,
      parameters: parsed.modules.reduce((s, m) => s + m.r * (m.site.K + m.part.rows), 0),
      byteLength: bytesTotal,
      dtype,
    };
    this.adapters.set(name, { info, weights: uploaded, signature, users: 0, serial: ++this.loads });
  }

  private async upload(s: LoraSite, R: number, A: Float32Array, B: Float32Array, dtype: 'f32' | 'f16', label: string): Promise<SitePair> {
    const quantize = dtype === 'f16' ? 'f16' : undefined;
    const a = await Linear.load(this.engine, A, s.K, R, { layout: 'NK', quantize, label: `${label}.A` });
    try {
      return { A: a, B: await Linear.load(this.engine, B, R, s.N, { layout: 'NK', quantize, label: `${label}.B` }) };
    } catch (e) {
      a.dispose();
      throw e;
    }
  }

  private readPEFT(name: string, bytes: Uint8Array, config: unknown, where: string) {
    if (config === undefined)
      throw new ArgumentError(`${where}: a PEFT adapter needs its adapter_config.json (object or text) as the third argument`);
    const cfg = parseConfig(config, where);
    const file = SafetensorsFile.parse(bytes); // duplicate keys, offsets and sizes checked here
    const { byModule } = this.sites(where);
    const found = new Map<string, { A?: string; B?: string }>();
    for (const key of file.entries.keys()) {
      if (/lora_embedding_[AB]/.test(key))
        throw new UnsupportedError(`${where}: '${name}' has embedding LoRA ('${key}'); only linear layers are supported`);
      if (/lora_magnitude_vector/.test(key))
        throw new UnsupportedError(`${where}: '${name}' has DoRA magnitudes ('${key}'): use_dora is not supported`);
      const m = /^(?:base_model\.model\.)?(.+)\.lora_([AB])(?:\.[^.]+)?\.weight$/.exec(key);
      if (!m)
        throw new UnsupportedError(
          `${where}: '${name}' tensor '${key}' is not a lora_A / lora_B weight (modules_to_save and biases are not supported)`,
        );
      const entry = found.get(m[1]) ?? {};
      if (entry[m[2] as 'A' | 'B']) throw new ShapeError(`${where}: '${name}' has two lora_${m[2]} tensors for module '${m[1]}'`);
      entry[m[2] as 'A' | 'B'] = key;
      found.set(m[1], entry);
    }
    if (found.size === 0) throw new ShapeError(`${where}: '${name}' has no lora_A / lora_B tensors`);
    const modules: ModuleWeights[] = [];
    let dtype: 'f32' | 'f16' = 'f32';
    for (const [module, { A, B }] of found) {
      if (!A || !B) throw new ShapeError(`${where}: '${name}' module '${module}' has lora_${A ? 'A' : 'B'} but no lora_${A ? 'B' : 'A'}`);
      const hit = byModule.get(module);
      if (!hit) {
        const kinds = [...new Set([...byModule.keys()].map((k) => k.split('.').at(-1)))].join(', ');
        throw new ShapeError(
          `${where}: '${name}' adapts module '${module}', which is not a linear layer of this ${this.model} (adaptable: ${kinds})`,
        );
      }
      if (!targets(cfg.target_modules, module))
        throw new ShapeError(
          `${where}: '${name}' has weights for '${module}', which target_modules ${JSON.stringify(cfg.target_modules)} does not select`,
        );
      const [site, part] = hit;
      const r = patternValue(cfg.rank_pattern, module, cfg.r as number);
      const alpha = patternValue(cfg.alpha_pattern, module, cfg.lora_alpha as number);
      const ea = file.get(A);
      const eb = file.get(B);
      const want = [
        [r, site.K],
        [part.rows, r],
      ];
      for (const [e, w, what] of [
        [ea, want[0], 'lora_A'],
        [eb, want[1], 'lora_B'],
      ] as const) {
        if (e.shape.length !== 2 || e.shape[0] !== w[0] || e.shape[1] !== w[1])
          throw new ShapeError(
            `${where}: '${name}' ${module}.${what} is [${e.shape.join(', ')}]; rank ${r} on this ${this.model}'s [${part.rows}, ${site.K}] weight needs [${w.join(', ')}]`,
          );
      }
      if (ea.dtype !== 'F32') dtype = 'f16';
      const scale = cfg.use_rslora ? alpha / Math.sqrt(r) : alpha / r;
      modules.push({ part, site, name: module, A: file.float32(A), B: file.float32(B), r, scale }); // float32() refuses NaN / Inf
    }
    return { modules, dtype, rank: cfg.r as number, alpha: cfg.lora_alpha as number, rslora: !!cfg.use_rslora };
  }

  private readGGUF(name: string, bytes: Uint8Array, where: string) {
    const f = GGUFFile.parse(bytes);
    const meta = (k: string) => f.metadata.get(k);
    if (meta('general.type') !== 'adapter')
      throw new ShapeError(
        `${where}: '${name}' is a GGUF file of general.type ${JSON.stringify(meta('general.type') ?? null)}, not an adapter`,
      );
    if (meta('adapter.type') !== 'lora')
      throw new UnsupportedError(
        `${where}: '${name}' has adapter.type ${JSON.stringify(meta('adapter.type') ?? null)}; only lora is supported`,
      );
    const { byGGUF, ggufArch } = this.sites(where);
    const arch = meta('general.architecture');
    if (!ggufArch.includes(arch as string))
      throw new ShapeError(
        `${where}: '${name}' is for architecture ${JSON.stringify(arch)}, this model is ${ggufArch.map((a) => `'${a}'`).join(' / ') || `a ${this.model} (no GGUF architecture)`}`,
      );
    const alphaV = meta('adapter.lora.alpha');
    const alpha = typeof alphaV === 'number' ? alphaV : typeof alphaV === 'bigint' ? Number(alphaV) : 0;
    if (!Number.isFinite(alpha)) throw new ShapeError(`${where}: '${name}' adapter.lora.alpha is not finite`);
    const found = new Map<string, { a?: string; b?: string }>();
    for (const key of f.tensors.keys()) {
      const m = /^(.+)\.lora_([ab])$/.exec(key);
      if (!m) throw new UnsupportedError(`${where}: '${name}' tensor '${key}' is not a .lora_a / .lora_b tensor`);
      const entry = found.get(m[1]) ?? {};
      entry[m[2] as 'a' | 'b'] = key;
      found.set(m[1], entry);
    }
    if (found.size === 0) throw new ShapeError(`${where}: '${name}' has no .lora_a / .lora_b tensors`);
    const modules: ModuleWeights[] = [];
    let dtype: 'f32' | 'f16' = 'f32';
    let rank = 0;
    for (const [base, { a, b }] of found) {
      if (!a || !b) throw new ShapeError(`${where}: '${name}' tensor '${base}' has lora_${a ? 'a' : 'b'} but no lora_${a ? 'b' : 'a'}`);
      const hit = byGGUF.get(base);
      if (!hit) throw new ShapeError(`${where}: '${name}' adapts '${base}', which is not a linear layer of this ${this.model}`);
      const [site, part] = hit;
      const ta = f.get(a);
      const tb = f.get(b);
      const [sa, sb] = [ta, tb].map((t) => [...t.dims].reverse()); // ne[0] fastest → [rows, cols]
      const r = sa[0];
      if (sa.length !== 2 || sb.length !== 2 || sa[1] !== site.K || sb[0] !== part.rows || sb[1] !== r)
        throw new ShapeError(
          `${where}: '${name}' ${base}: lora_a is [${sa.join(', ')}] and lora_b [${sb.join(', ')}]; the base's [${part.rows}, ${site.K}] weight needs [r, ${site.K}] and [${part.rows}, r]`,
        );
      if (ta.type !== 0) dtype = 'f16';
      let B = f.float32(b); // F32 / F16; NaN refused
      if (part.ropeHeads) B = (unpermuteRoPE(f32Matrix(B, part.rows, r), part.ropeHeads, b) as { data: Float32Array }).data;
      rank = Math.max(rank, r);
      modules.push({ part, site, name: part.module, A: f.float32(a), B, r, scale: alpha ? alpha / r : 1 });
    }
    return { modules, dtype, rank, alpha, rslora: false };
  }

  /** Frees an adapter; its slot too when no other loaded adapter has that shape (with the plans bound to it). */
  unload(name: string): void {
    const where = `${this.model}.unloadAdapter`;
    const a = this.adapters.get(name);
    if (!a) throw new ArgumentError(`${where}: no adapter '${name}' is loaded (loaded: ${this.names.join(', ') || 'none'})`);
    if (a.users > 0) throw new BusyError(`${where}: '${name}' is in use by a generate() that has not finished`);
    this.adapters.delete(name);
    // After the runs already enqueued: a forward() in flight may still copy from these into its slot.
    void this.engine.enqueue(async () => {
      for (const p of a.weights.values()) for (const l of [p.A, p.B]) l.dispose();
    });
    const slot = this.slots.get(a.signature);
    if (slot && slot.holds === a) slot.holds = null;
    if (slot && ![...this.adapters.values()].some((x) => x.signature === a.signature)) {
      this.slots.delete(a.signature);
      this.dropPlans(`:lora${slot.id}`);
      // The engine's queue orders the disposal after every run already enqueued that binds the slot.
      void this.engine.enqueue(async () => {
        for (const p of slot.pairs.values()) for (const l of [p.A, p.B]) l.dispose();
      });
    }
  }

  /** The slot for `name` (made on first use): the plan key suffix and what build() binds. Null: the base model. */
  async select(name: string | null | undefined, where: string): Promise<AdapterSelection | null> {
    if (name === null || name === undefined) return null;
    if (this.disposed) throw new DisposedError(`${where}: the model was disposed`);
    const adapter = this.adapters.get(name);
    if (!adapter) throw new ArgumentError(`${where}: no adapter '${name}' is loaded (loaded: ${this.names.join(', ') || 'none'})`);
    let slot = this.slots.get(adapter.signature);
    if (!slot) {
      const { sites } = this.sites(where);
      const pairs = new Map<string, SitePair>();
      try {
        for (const s of sites) {
          const own = adapter.weights.get(s.key);
          if (!own) continue;
          const R = own.A.weight instanceof QuantizedTensor ? own.A.weight.layout.N : own.A.weight.shape[0];
          const dtype = own.A.weight instanceof QuantizedTensor ? 'f16' : 'f32';
          pairs.set(s.key, await this.upload(s, R, new Float32Array(R * s.K), new Float32Array(s.N * R), dtype, `lora slot ${s.key}`));
        }
      } catch (e) {
        for (const p of pairs.values()) for (const l of [p.A, p.B]) l.dispose();
        throw e;
      }
      const again = this.slots.get(adapter.signature); // another call made it while this one uploaded
      if (again) for (const p of pairs.values()) for (const l of [p.A, p.B]) l.dispose();
      slot = again ?? { id: this.nextSlot++, signature: adapter.signature, pairs, holds: null };
      this.slots.set(adapter.signature, slot);
    }
    return { adapter, slot, key: `:lora${slot.id}` };
  }

  /**
   * Makes the slot hold the selection's adapter before the next run: a GPU copy enqueued now, so it
   * lands after the runs enqueued before and before the run enqueued next. Call it right before run().
   */
  activate(sel: AdapterSelection | null): void {
    if (!sel) return;
    const { slot, adapter } = sel;
    if (this.adapters.get(adapter.info.name) !== adapter || this.slots.get(slot.signature) !== slot)
      throw new ArgumentError(`${this.model}: adapter '${adapter.info.name}' was unloaded before the run`);
    if (slot.holds === adapter) return;
    slot.holds = adapter;
    const pairs = [...slot.pairs].map(([key, dst]) => [pairTensors(adapter.weights.get(key)!), pairTensors(dst)] as const);
    void this.engine.enqueue(async () => {
      const enc = this.engine.device.createCommandEncoder({ label: `lora switch to ${adapter.info.name}` });
      for (const [src, dst] of pairs)
        for (let i = 0; i < src.length; i++) enc.copyBufferToBuffer(src[i].buffer, 0, dst[i].buffer, 0, src[i].byteLength);
      this.engine.device.queue.submit([enc.finish()]);
    });
  }

  /** Counts a generate() using the adapter (unload refuses while it runs). */
  use(sel: AdapterSelection | null, delta: 1 | -1): void {
    if (sel) sel.adapter.users += delta;
  }

  /** The low-rank update x·Aᵀ·Bᵀ (scale folded into B) of `site` from the bound slot, or undefined where it has none. */
  delta(g: Graph, sel: AdapterSelection | null, site: string, x: SymbolicTensor): SymbolicTensor | undefined {
    const pair = sel?.slot.pairs.get(site);
    return pair ? pair.B.apply(g, pair.A.apply(g, x)) : undefined;
  }

  /**
   * Folds an adapter into the base weights (f32 or f16 bases only) and unloads it: later runs without an
   * adapter are the adapted model, with no per-token cost. Read back, summed in float64, written back.
   */
  async merge(name: string): Promise<void> {
    const where = `${this.model}.mergeAdapter`;
    const a = this.adapters.get(name);
    if (!a) throw new ArgumentError(`${where}: no adapter '${name}' is loaded (loaded: ${this.names.join(', ') || 'none'})`);
    if (a.users > 0) throw new BusyError(`${where}: '${name}' is in use by a generate() that has not finished`);
    const { sites } = this.sites(where);
    const touched = sites.filter((s) => a.weights.has(s.key));
    for (const s of touched) {
      const w = s.linear.weight;
      if (w instanceof QuantizedTensor && w.layout.scheme !== 'f16')
        throw new UnsupportedError(
          `${where}: ${s.key}'s weights are packed as ${w.layout.scheme}; an adapter merges into f32 or f16 weights only. Use it unmerged (forward/generate with { adapter: '${name}' })`,
        );
    }
    for (const s of touched) {
      const pair = a.weights.get(s.key)!;
      const [A, B] = await Promise.all([pair.A, pair.B].map((l) => readF32(l))); // [R, K], [N, R]
      const R = A.length / s.K;
      const w = s.linear.weight;
      const nk = s.linear.layout === 'NK';
      const W = w instanceof QuantizedTensor ? Float64Array.from(dequantize(await w.read())) : Float64Array.from(await w.read());
      for (let n = 0; n < s.N; n++)
        for (let k = 0; k < s.K; k++) {
          let d = 0;
          for (let r = 0; r < R; r++) d += B[n * R + r] * A[r * s.K + k];
          if (w instanceof QuantizedTensor || nk) W[n * s.K + k] += d;
          else W[k * s.N + n] += d;
        }
      if (w instanceof QuantizedTensor) w.qweight.write(quantizeCPU(Float32Array.from(W), s.K, s.N, 'f16', 'NK').qweight);
      else w.write(Float32Array.from(W));
    }
    this.unload(name);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const a of this.adapters.values()) for (const p of a.weights.values()) for (const l of [p.A, p.B]) l.dispose();
    for (const s of this.slots.values()) for (const p of s.pairs.values()) for (const l of [p.A, p.B]) l.dispose();
    this.adapters.clear();
    this.slots.clear();
  }
}

/** A Linear's [out, in] weights as float32 (f16 widened). */
async function readF32(l: Linear): Promise<Float32Array> {
  const w = l.weight;
  return w instanceof QuantizedTensor ? Float32Array.from(dequantize(await w.read())) : ((await w.read()) as Float32Array);
}
