// The LSTM page's model (demos/lstm/char-model.ts) on the bundled KJV character LSTM: the top next
// characters after the page's prompt equal float64 PyTorch's (tools/record_page_examples.py), and the
// gates it recomputes in float64 for a chosen unit give back the kernel's c and h at every step.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CharLSTM } from '../../demos/lstm/char-model';
import type { Engine } from '../../src/index';
import { createTestEngine } from '../helpers/engine';

const recorded = JSON.parse(readFileSync('demos/lstm/recorded.json', 'utf8')) as { prompt: string; next: { char: string; p: number }[] };
let engine: Engine;
let model: CharLSTM;
beforeAll(async () => {
  engine = await createTestEngine();
  model = await CharLSTM.load(engine, new Uint8Array(readFileSync('public/models/kjv-char-lstm.safetensors')));
});
afterAll(() => {
  model?.dispose();
  engine?.dispose();
});

describe('CharLSTM (LSTM page)', () => {
  it("after the prompt, the top next characters and probabilities are PyTorch's (float64, to its 4 decimals)", async () => {
    model.lstm.resetState();
    let last = null as Awaited<ReturnType<CharLSTM['step']>> | null;
    for (const [i, id] of model.encode(recorded.prompt).entries()) last = await model.step(id, 1, 1, i);
    const p = CharLSTM.probabilities(last!.logits, 1);
    const top = [...p.keys()].sort((a, b) => p[b] - p[a]).slice(0, 5);
    expect(top.map((i) => model.vocab[i])).toEqual(recorded.next.map((n) => n.char));
    for (const [k, i] of top.entries()) expect(Math.abs(p[i] - recorded.next[k].p), model.vocab[i]).toBeLessThanOrEqual(5e-5 + 1e-5);
    // Temperature reshapes them: lower sharpens, 0 puts everything on the most likely.
    expect(CharLSTM.probabilities(last!.logits, 0.5)[top[0]]).toBeGreaterThan(p[top[0]]);
    expect(CharLSTM.probabilities(last!.logits, 0)[top[0]]).toBe(1);
  });

  it('gatesOf(unit) in float64 rebuilds c = f·c_prev + i·g and h = o·tanh(c) of the GPU at every step (odd units)', async () => {
    model.lstm.resetState();
    const H = model.hiddenSize;
    let hPrev = new Float32Array(H);
    let cPrev = new Float32Array(H);
    const ids = model.encode('In the beginning God created');
    for (const [t, id] of ids.entries()) {
      const s = await model.step(id, 0.7, 3, t);
      for (const u of [0, 7, 61, H - 1]) {
        const { i, f, g, o } = model.gatesOf(u, s.x, hPrev);
        for (const v of [i, f, o]) expect(v >= 0 && v <= 1, `a sigmoid gate is ${v}`).toBe(true);
        const c = f * cPrev[u] + i * g;
        expect(Math.abs(c - s.c[u]), `c, step ${t}, unit ${u}`).toBeLessThan(2e-5);
        expect(Math.abs(o * Math.tanh(c) - s.h[u]), `h, step ${t}, unit ${u}`).toBeLessThan(2e-5);
      }
      hPrev = s.h.slice();
      cPrev = s.c.slice();
    }
    expect(() => model.gatesOf(H, new Float32Array(H), hPrev)).toThrow(/gatesOf: unit 128 is outside 0–127/);
  });
});
