// A GPT-2 checkpoint of random weights in the original layout, built in memory: for benchmarks at the
// real shapes without a download, and for tests of configurations no fixture has.
import type { GPT2Config } from './gpt2';

/** Safetensors bytes holding deterministic pseudo-random F32 weights (uniform in ±scale). */
export function randomGPT2Checkpoint(c: GPT2Config, seed = 7, scale = 0.05): Uint8Array {
  const C = c.n_embd;
  const shapes: [string, number[]][] = [
    ['wte.weight', [c.vocab_size, C]],
    ['wpe.weight', [c.n_positions, C]],
    ['ln_f.weight', [C]],
    ['ln_f.bias', [C]],
  ];
  for (let i = 0; i < c.n_layer; i++) {
    const p = `h.${i}.`;
    shapes.push(
      [`${p}ln_1.weight`, [C]],
      [`${p}ln_1.bias`, [C]],
      [`${p}attn.c_attn.weight`, [C, 3 * C]],
      [`${p}attn.c_attn.bias`, [3 * C]],
      [`${p}attn.c_proj.weight`, [C, C]],
      [`${p}attn.c_proj.bias`, [C]],
      [`${p}ln_2.weight`, [C]],
      [`${p}ln_2.bias`, [C]],
      [`${p}mlp.c_fc.weight`, [C, 4 * C]],
      [`${p}mlp.c_fc.bias`, [4 * C]],
      [`${p}mlp.c_proj.weight`, [4 * C, C]],
      [`${p}mlp.c_proj.bias`, [C]],
    );
  }
  return randomSafetensors(shapes, seed, scale);
}

/**
 * A safetensors file of the F32 tensors `shapes`, in order, filled from one seeded linear congruential
 * sequence uniform in ±scale; a tensor for which `constant(name)` gives a number holds that number
 * instead (the sequence still advances, so the other tensors do not depend on it).
 */
export function randomSafetensors(
  shapes: readonly (readonly [string, readonly number[]])[],
  seed: number,
  scale: number,
  constant: (name: string) => number | undefined = () => undefined,
): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape] of shapes) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(new TextEncoder().encode(json), 8);
  let s = seed >>> 0;
  let at = 8 + json.length;
  for (const [name, shape] of shapes) {
    const floats = new Float32Array(
      out.buffer,
      at,
      shape.reduce((a, b) => a * b, 1),
    );
    at += floats.byteLength;
    const fixed = constant(name);
    for (let i = 0; i < floats.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      floats[i] = fixed ?? (s / 2 ** 31 - 1) * scale;
    }
  }
  return out;
}
