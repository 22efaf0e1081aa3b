// Property-based fuzzing of every file reader (fast-check): a valid file built from random content,
// then one to three mutations (flipped bytes, truncation, inserted bytes, extreme counts and lengths
// written over any field). Each case must end in one of two ways: a valid parse (whose tensors then read
// or fail cleanly), or the format's own error with a message. Never a JS TypeError or RangeError, never
// an allocation out of proportion to the file, never a hang. 10,000 cases in all per run.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FormatError, GGUFFile, SafetensorsFile, ShapeError, parseGloVe, parseWord2VecBinary, parseWord2VecText } from '../../src/index';
import { writeGGUF, writeSafetensors, writeWord2VecBinary, writeWord2VecText, type GGUFMeta } from '../helpers/files';

type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'number'; at: number; value: bigint; width: 4 | 8 }
  | { kind: 'decimal'; at: number; value: bigint };

// Positions are taken modulo the file length: fast-check biases numbers towards 0, which would put most
// mutations on the magic number.
const position = fc.integer({ min: 0, max: 0x7fffffff });
const extreme = fc.constantFrom(
  0n,
  1n,
  2n,
  3n,
  31n,
  33n,
  0xffn,
  0xffffn,
  20000n,
  0x7fffffffn,
  0xffffffffn,
  2n ** 32n,
  2n ** 53n,
  2n ** 63n,
  2n ** 64n - 1n,
  10n ** 20n,
);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({
    kind: fc.constant('number' as const),
    at: position,
    value: fc.oneof(extreme, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
    width: fc.constantFrom(4 as const, 8 as const),
  }),
  fc.record({ kind: fc.constant('decimal' as const), at: position, value: fc.oneof(extreme, fc.bigInt({ min: 0n, max: 10n ** 12n })) }),
);

const isDigit = (c: number) => c >= 48 && c <= 57;

function mutate(base: Uint8Array, ms: Mutation[]): Uint8Array {
  let b: Uint8Array = base.slice();
  for (const m of ms) {
    const at = m.at % (b.length + 1);
    if (m.kind === 'flip' && at < b.length) b[at] = m.value;
    else if (m.kind === 'truncate') b = b.slice(0, at);
    else if (m.kind === 'insert') b = splice(b, at, at, m.bytes);
    else if (m.kind === 'number' && at + m.width <= b.length) {
      for (let i = 0; i < m.width; i++) b[at + i] = Number((m.value >> BigInt(8 * i)) & 0xffn);
    } else if (m.kind === 'decimal') {
      // A run of ASCII digits (a header count, a dimension, a number in a vector) written as another number.
      let i = at;
      while (i < b.length && !isDigit(b[i])) i++;
      if (i >= b.length) for (i = 0; i < b.length && !isDigit(b[i]); i++);
      let j = i;
      while (j < b.length && isDigit(b[j])) j++;
      if (i < b.length) b = splice(b, i, j, new TextEncoder().encode(m.value.toString()));
    }
  }
  return b;
}

function splice(b: Uint8Array, from: number, to: number, insert: Uint8Array): Uint8Array<ArrayBuffer> {
  const c = new Uint8Array(b.length - (to - from) + insert.length);
  c.set(b.subarray(0, from));
  c.set(insert, from);
  c.set(b.subarray(to), from + insert.length);
  return c;
}

/** A mutated text file for the text readers: the same mutations on its UTF-8 bytes. */
function mutateText(text: string, ms: Mutation[]): Uint8Array {
  return mutate(new TextEncoder().encode(text), ms);
}

let cases = 0;

/** Parses `bytes` with `read`; asserts the outcome is a value or the format's own error, and bounded memory. */
function expectClean(
  read: (bytes: Uint8Array) => unknown,
  bytes: Uint8Array,
  formatError: new (...a: never[]) => Error = FormatError,
): void {
  cases++;
  const before = process.memoryUsage().arrayBuffers;
  try {
    read(bytes);
  } catch (e) {
    if (!(e instanceof formatError) && !(e instanceof ShapeError)) {
      throw new Error(`expected ${formatError.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`, { cause: e });
    }
    expect((e as Error).message.length).toBeGreaterThan(10);
  }
  const grown = process.memoryUsage().arrayBuffers - before;
  // What a reader may allocate: the parsed data is at most a few times the file (f16 widens to f32).
  expect(grown).toBeLessThanOrEqual(16 * bytes.length + (1 << 20));
}

const word = fc.stringMatching(/^[a-zé][a-z0-9é]{0,6}$/);
const vectorsOf = (n: number, dim: number) =>
  fc.array(fc.array(fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }), { minLength: dim, maxLength: dim }), {
    minLength: n,
    maxLength: n,
  });
const wordVectors = fc
  .record({ n: fc.integer({ min: 1, max: 6 }), dim: fc.integer({ min: 1, max: 5 }) })
  .chain(({ n, dim }) => fc.record({ words: fc.uniqueArray(word, { minLength: n, maxLength: n }), vectors: vectorsOf(n, dim) }));

const ggufFile = fc
  .record({
    meta: fc.array(
      fc.oneof(
        fc.tuple(fc.constant(4), fc.nat({ max: 0xffffffff })),
        fc.tuple(fc.constant(6), fc.float({ noNaN: true })),
        fc.tuple(fc.constant(8), fc.string({ maxLength: 12 })),
        fc.tuple(fc.constant(9), fc.array(fc.nat({ max: 1000 }), { maxLength: 5 })),
      ),
      { maxLength: 4 },
    ),
    tensors: fc.array(fc.record({ type: fc.constantFrom(0, 1, 8), rows: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 3 }),
  })
  .map(({ meta, tensors }) => {
    const m: GGUFMeta[] = meta.map(([type, v], i) => (type === 9 ? [`key.${i}`, 9, v, 4] : [`key.${i}`, type, v]));
    const specs = tensors.map((t, i) => {
      const K = t.type === 8 ? 32 : 4;
      const bytes = t.type === 0 ? 4 * K * t.rows : t.type === 1 ? 2 * K * t.rows : 34 * t.rows;
      const data = new Uint8Array(bytes);
      if (t.type === 8) for (let b = 0; b < t.rows; b++) data.set([0x00, 0x3c], 34 * b); // f16 scale 1.0
      return { name: `t${i}`, dims: [K, t.rows], type: t.type, data };
    });
    return writeGGUF(m, specs);
  });

const safetensorsFile = fc
  .array(fc.record({ dtype: fc.constantFrom('F32', 'F16', 'BF16', 'I32'), n: fc.integer({ min: 1, max: 6 }) }), {
    minLength: 1,
    maxLength: 4,
  })
  .map((ts) => {
    const size = { F32: 4, F16: 2, BF16: 2, I32: 4 } as const;
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let off = 0;
    ts.forEach((t, i) => {
      const bytes = size[t.dtype as keyof typeof size] * t.n;
      header[`layer.${i}.weight`] = { dtype: t.dtype, shape: [t.n], data_offsets: [off, off + bytes] };
      off += bytes;
    });
    return writeSafetensors(header, new Uint8Array(off));
  });

const mutations = fc.array(mutation, { minLength: 1, maxLength: 3 });

describe('fuzzing the file readers', () => {
  it('safetensors: 2,500 mutated files', () => {
    fc.assert(
      fc.property(safetensorsFile, mutations, (base, ms) => {
        expectClean(
          (b) => {
            const f = SafetensorsFile.parse(b);
            for (const e of f.entries.values()) {
              try {
                f.float32(e.name);
              } catch (err) {
                if (!(err instanceof FormatError)) throw err;
              }
            }
          },
          mutate(base, ms),
        );
      }),
      { numRuns: 2500, seed: 1 },
    );
  });

  it('GGUF: 2,500 mutated files', () => {
    fc.assert(
      fc.property(ggufFile, mutations, (base, ms) => {
        expectClean(
          (b) => {
            const f = GGUFFile.parse(b);
            for (const t of f.tensors.values()) {
              try {
                if (t.type === 8) f.q8_0(t.name);
                else f.float32(t.name);
              } catch (err) {
                if (!(err instanceof FormatError)) throw err;
              }
              try {
                f.quantized(t.name);
              } catch (err) {
                if (!(err instanceof FormatError)) throw err;
              }
            }
          },
          mutate(base, ms),
        );
      }),
      { numRuns: 2500, seed: 2 },
    );
  });

  it('word2vec binary: 2,000 mutated files', () => {
    fc.assert(
      fc.property(wordVectors, mutations, ({ words, vectors }, ms) => {
        expectClean((b) => parseWord2VecBinary(b), mutate(writeWord2VecBinary(words, vectors), ms));
      }),
      { numRuns: 2000, seed: 3 },
    );
  });

  it('word2vec text: 1,500 mutated files', () => {
    fc.assert(
      fc.property(wordVectors, mutations, ({ words, vectors }, ms) => {
        expectClean((b) => parseWord2VecText(b), mutateText(writeWord2VecText(words, vectors), ms));
      }),
      { numRuns: 1500, seed: 4 },
    );
  });

  it('GloVe: 1,500 mutated files', () => {
    fc.assert(
      fc.property(wordVectors, mutations, ({ words, vectors }, ms) => {
        expectClean((b) => parseGloVe(b), mutateText(writeWord2VecText(words, vectors, false), ms));
      }),
      { numRuns: 1500, seed: 5 },
    );
  });

  it('ran at least 10,000 cases', () => {
    expect(cases).toBeGreaterThanOrEqual(10_000);
  });
});
