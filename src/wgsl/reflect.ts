// Reads bindings, uniform struct layouts and workgroup sizes out of WGSL with wgsl_reflect, so the
// shader stays the single source of truth: no hand-written offsets, no `layout: 'auto'`.
// The package's "main" is CommonJS inside a "type": "module" package, which Node refuses; its ESM build
// is imported directly.
import { WgslReflect } from 'wgsl_reflect/wgsl_reflect.module.js';
import { ArgumentError, UnsupportedError } from '../errors';

export type BindingKind = 'uniform' | 'read-only-storage' | 'storage';

export interface ReflectedBinding {
  name: string;
  group: number;
  binding: number;
  kind: BindingKind;
  /** The scalar type of a storage array's elements (array<vec4<f32>> → 'f32'), or null. */
  element: 'f32' | 'u32' | 'i32' | null;
  /** Every view's element type where several variables share the binding (f32 and packed-half views). */
  elements?: ('f32' | 'u32' | 'i32' | null)[];
}

/** The scalar inside array<T>, array<vec4<T>>, array<atomic<T>>. */
function elementOf(type: { name?: string; format?: unknown } | undefined): ReflectedBinding['element'] {
  let t = type;
  while (t) {
    if (t.name === 'f32' || t.name === 'u32' || t.name === 'i32') return t.name;
    t = t.format as typeof t;
  }
  return null;
}

export interface UniformField {
  offset: number;
  type: 'u32' | 'i32' | 'f32';
}

export interface UniformLayout {
  name: string;
  size: number;
  fields: Map<string, UniformField>;
}

export interface ReflectedEntry {
  name: string;
  bindings: ReflectedBinding[]; // sorted by binding number
  uniform?: UniformLayout;
}

export interface ReflectedShader {
  entries: Map<string, ReflectedEntry>;
  overrides: Set<string>;
}

const cache = new Map<string, ReflectedShader>();

/** Parses `code` once (cached by text) and returns its compute entry points and their bindings. */
export function reflectShader(code: string): ReflectedShader {
  const hit = cache.get(code);
  if (hit) return hit;
  const r = new WgslReflect(code);
  const uniforms = new Map<string, UniformLayout>();
  for (const u of r.uniforms) {
    const fields = new Map<string, UniformField>();
    const members = (u.type as { members?: { name: string; offset: number; type: { name: string } }[] }).members;
    if (!members) throw new UnsupportedError(`uniform ${u.name} must be a struct of u32/i32/f32 fields`);
    for (const m of members) {
      const t = m.type.name;
      if (t !== 'u32' && t !== 'i32' && t !== 'f32') {
        throw new UnsupportedError(`uniform ${u.name}.${m.name} has type ${t}; only u32, i32 and f32 fields are packed`);
      }
      fields.set(m.name, { offset: m.offset, type: t });
    }
    uniforms.set(u.name, { name: u.name, size: u.size, fields });
  }
  const entries = new Map<string, ReflectedEntry>();
  for (const e of r.entry.compute) {
    let uniform: UniformLayout | undefined;
    const bindings: ReflectedBinding[] = e.resources.map((res) => {
      let kind: BindingKind;
      if (res.resourceType === 0) {
        kind = 'uniform';
        uniform = uniforms.get(res.name);
      } else if (res.resourceType === 1) kind = res.access === 'read' ? 'read-only-storage' : 'storage';
      else throw new UnsupportedError(`binding ${res.name} in entry ${e.name}: only uniform and storage buffers are supported`);
      const element = res.resourceType === 1 ? elementOf(res.type as { name?: string; format?: unknown }) : null;
      return { name: res.name, group: res.group, binding: res.binding, kind, element };
    });
    // Variables sharing a binding number (array<f32> and array<vec4<f32>> views of one buffer) are
    // one layout entry; the reflection may list several of them for an entry point.
    const byNumber = new Map<number, ReflectedBinding>();
    for (const b of bindings) {
      if (b.group !== 0) throw new UnsupportedError(`binding ${b.name} in entry ${e.name}: only @group(0) is supported`);
      const prev = byNumber.get(b.binding);
      if (prev && prev.kind !== b.kind)
        throw new UnsupportedError(`entry ${e.name}: binding ${b.binding} is both ${prev.name} (${prev.kind}) and ${b.name} (${b.kind})`);
      if (!prev) byNumber.set(b.binding, b);
      else if (b.element !== prev.element) prev.elements = [...new Set([...(prev.elements ?? [prev.element]), b.element])];
    }
    const unique = [...byNumber.values()].sort((a, b) => a.binding - b.binding);
    entries.set(e.name, { name: e.name, bindings: unique, uniform });
  }
  const result = { entries, overrides: new Set(r.overrides.map((o) => o.name)) };
  cache.set(code, result);
  return result;
}

/** Packs named scalar values into a uniform struct's bytes, following the reflected layout. */
export function packUniform(
  layout: UniformLayout,
  values: Record<string, number>,
  target: DataView,
  byteOffset: number,
  context: string,
): void {
  for (const key of Object.keys(values)) {
    if (!layout.fields.has(key)) throw new UnsupportedError(`${context}: uniform ${layout.name} has no field '${key}'`);
  }
  for (const [name, f] of layout.fields) {
    const v = values[name] ?? 0; // a field this call does not use (another entry point's) is zero
    const at = byteOffset + f.offset;
    if (f.type === 'f32') target.setFloat32(at, v, true);
    else if (f.type === 'i32') target.setInt32(at, v, true);
    else {
      if (!(v >= 0 && v <= 0xffffffff && Number.isInteger(v))) {
        throw new ArgumentError(`${context}: uniform field ${layout.name}.${name} = ${v} does not fit in a u32`);
      }
      target.setUint32(at, v, true);
    }
  }
}
