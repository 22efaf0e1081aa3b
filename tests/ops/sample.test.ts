// GPU sampling against the float64 reference with the same draw: greedy (ties to the lowest index),
// temperature, top-k, top-p and their combination, over several seeds and a vocabulary-wide row.
import { expect, it } from 'vitest';
import { SAMPLE_NONE, SAMPLE_WG, sampleReference } from '../../src/ops/sample';
import { fileEngine } from '../helpers/engine';
import { describeOp } from '../helpers/conformance';
import { randn } from '../helpers/numeric';

const engine = fileEngine();

async function samplePlan(rows: number, V: number, tuning?: Record<string, Record<string, number>>) {
  const g = engine().graph('sample');
  const logits = g.input('logits', [rows, V]);
  const id = g.sample(logits, {
    temperature: g.scalar('temperature'),
    topK: g.scalar('topK'),
    topP: g.scalar('topP'),
    seed: g.scalar('seed'),
    step: g.scalar('step'),
  });
  return g.compile({ id }, { tuning });
}

type Settings = { temperature: number; topK: number; topP: number };

/** Draws steps 0..steps-1 for each setting; how many agree with the reference, and which ids came up. */
async function compareDraws(
  plan: Awaited<ReturnType<typeof samplePlan>>,
  logits: Float32Array,
  settings: Settings[],
  seed: number,
  steps = 4,
) {
  let agree = 0;
  const seen = new Set<number>();
  for (const s of settings)
    for (let step = 0; step < steps; step++) {
      const p = { ...s, seed, step };
      const { id } = await plan.run({ logits, ...p });
      if (id[0] === sampleReference(logits, p)) agree++;
      seen.add(id[0]);
    }
  return { agree, total: settings.length * steps, seen };
}

describeOp('sample', () => {
  it('top-p alone on a peaked row (the values it may keep are gathered after 8 halvings) matches the reference', async () => {
    const V = 50257;
    const plan = await samplePlan(1, V);
    // Like a language model's logits: a few dozen likely tokens well above a broad tail.
    const logits = randn(V, 77, 1);
    const noise = randn(60, 78, 1.5);
    for (let i = 0; i < 60; i++) logits[(i * 7919) % V] = 8 + noise[i];
    const settings = [
      { temperature: 1, topK: 0, topP: 0.9 },
      { temperature: 0.7, topK: 0, topP: 0.5 },
      { temperature: 1.2, topK: 0, topP: 0.95 },
    ];
    const { agree, total, seen } = await compareDraws(plan, logits, settings, 99);
    expect(agree).toBe(total);
    expect(seen.size).toBeGreaterThan(3);

    // Three near-equal leaders 0.01 apart: 8 halvings of [min, max] leave all three above lo, and only
    // the full 32 find that the first alone reaches a top-p of 0.2, so every draw must be that one.
    const peak = randn(V, 79, 1);
    const [a, b, c] = [1234, 20000, 45000];
    [peak[a], peak[b], peak[c]] = [12, 11.99, 11.98];
    for (let step = 0; step < 8; step++) {
      const p = { temperature: 1, topK: 0, topP: 0.2, seed: 5, step };
      expect(sampleReference(peak, p)).toBe(a);
      const { id } = await plan.run({ logits: peak, ...p });
      expect(id[0], `step ${step}`).toBe(a);
    }
    plan.dispose();
  });

  it('greedy picks the argmax of the last row, lowest index on ties', async () => {
    const plan = await samplePlan(2, 10);
    const x = new Float32Array(20);
    x[3] = 9; // first row: ignored
    x[10 + 4] = 2;
    x[10 + 7] = 2;
    const { id } = await plan.run({ logits: x, temperature: 0, topK: 0, topP: 1, seed: 0, step: 0 });
    expect(Array.from(id)).toEqual([4]);
    plan.dispose();
  });

  it('a row with no logit to pick (all NaN, all -∞, or both) gives SAMPLE_NONE, greedy or drawn; NaN never wins', async () => {
    const V = 37;
    const plan = await samplePlan(1, V);
    const rows = {
      NaN: new Float32Array(V).fill(Number.NaN),
      '-∞': new Float32Array(V).fill(-Infinity),
      'NaN and -∞': Float32Array.from({ length: V }, (_, i) => (i % 2 ? Number.NaN : -Infinity)),
    };
    const settings = [
      { temperature: 0, topK: 0, topP: 1 },
      { temperature: 1, topK: 0, topP: 1 },
      { temperature: 0.8, topK: 5, topP: 0.9 },
    ];
    for (const [what, logits] of Object.entries(rows))
      for (const s of settings) {
        const p = { ...s, seed: 3, step: 1 };
        expect(sampleReference(logits, p), `${what} ${JSON.stringify(s)} (reference)`).toBe(SAMPLE_NONE);
        const { id } = await plan.run({ logits, ...p });
        expect(id[0], `${what} ${JSON.stringify(s)}`).toBe(SAMPLE_NONE);
      }
    // One number among NaNs (the first logit NaN too): greedy picks it, in the kernel and the reference.
    const one = new Float32Array(V).fill(Number.NaN);
    one[11] = -5;
    const greedy = { temperature: 0, topK: 0, topP: 1, seed: 0, step: 0 };
    expect(sampleReference(one, greedy)).toBe(11);
    expect(Array.from((await plan.run({ logits: one, ...greedy })).id)).toEqual([11]);
    plan.dispose();
  });

  for (const V of [37, 50257]) {
    it(`temperature / top-k / top-p draws match the reference (V = ${V})`, async () => {
      const plan = await samplePlan(1, V);
      const logits = randn(V, V, 2);
      const settings = [
        { temperature: 1, topK: 0, topP: 1 },
        { temperature: 0.7, topK: 5, topP: 1 },
        { temperature: 1.3, topK: 0, topP: 0.9 },
        { temperature: 0.8, topK: 20, topP: 0.5 },
        { temperature: 1, topK: 1, topP: 1 },
        // top-p over the top-k values gathered in workgroup memory (at most one per thread: 256), and
        // over the whole row when top-k keeps more than that
        ...(V > 256
          ? [
              { temperature: 0.9, topK: 256, topP: 0.7 },
              { temperature: 0.9, topK: 300, topP: 0.8 },
            ]
          : []),
      ];
      const { agree, total, seen } = await compareDraws(plan, logits, settings, 1234);
      // Same rules, same draw: every pick agrees (a draw landing within f32 rounding of a boundary
      // could flip one; these seeds do not).
      expect(agree).toBe(total);
      expect(seen.size).toBeGreaterThan(3); // it really samples
      plan.dispose();
    });
  }

  it('every tunable workgroup size draws what the reference draws (top-p gathered early, late and over top-k)', async () => {
    const V = 50257;
    const logits = randn(V, 91, 2);
    for (const WG of SAMPLE_WG) {
      const plan = await samplePlan(1, V, { sample: { WG } });
      const settings = [
        { temperature: 0.8, topK: 20, topP: 0.5 },
        { temperature: 1.3, topK: 0, topP: 0.9 },
        { temperature: 0.9, topK: WG, topP: 0.7 }, // as many as the workgroup gathers
        { temperature: 0.9, topK: WG + 1, topP: 0.8 }, // one more: top-p over the row
      ];
      const { agree, total } = await compareDraws(plan, logits, settings, 4321, 2);
      expect(agree, `WG=${WG}`).toBe(total);
      plan.dispose();
    }
  });

  it('a tuning WG it cannot use is an error naming the op and the choices', async () => {
    await expect(samplePlan(1, 100, { sample: { WG: 48 } })).rejects.toThrow(/sample: tuning WG=48 is not one of 32, 64, 128, 256/);
  });
});
