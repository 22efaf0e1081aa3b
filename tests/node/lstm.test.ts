// nn.LSTM against a PyTorch fixture (tools/train_lstm.py): output, h_n and c_n; state carried across
// runs; bad input.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LSTM, type Engine } from '../../src/index';
import { createTestEngine } from '../helpers/engine';
import { expectClose } from '../helpers/numeric';

const fx = JSON.parse(readFileSync('tests/fixtures/lstm/tiny.json', 'utf8')) as {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  x: number[];
  output: number[];
  h: number[];
  c: number[];
};
const bytes = new Uint8Array(readFileSync('tests/fixtures/lstm/tiny.safetensors'));
const TOL = { atol: 1e-6, rtol: 1e-5 };

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

describe('LSTM', () => {
  it('forward matches PyTorch nn.LSTM (output, h_n, c_n; gates i, f, g, o)', async () => {
    const lstm = await LSTM.fromSafetensors(engine, bytes, fx);
    const T = fx.x.length / fx.inputSize;
    const { output, h, c } = await lstm.forward(Float32Array.from(fx.x), T);
    expectClose(output, Float64Array.from(fx.output), TOL, 'output');
    expectClose(h, Float64Array.from(fx.h), TOL, 'h_n');
    expectClose(c, Float64Array.from(fx.c), TOL, 'c_n');
    lstm.dispose();
  });

  it('state carries over between runs: two halves equal one whole sequence', async () => {
    const lstm = await LSTM.fromSafetensors(engine, bytes, fx);
    const x = Float32Array.from(fx.x);
    const half = x.length / fx.inputSize / 2;
    lstm.resetState();
    const a = await lstm.run(x.subarray(0, half * fx.inputSize), half);
    const b = await lstm.run(x.subarray(half * fx.inputSize), half);
    const whole = Float64Array.from(fx.output);
    expectClose(a.output, whole.subarray(0, half * fx.hiddenSize), TOL, 'first half');
    expectClose(b.output, whole.subarray(half * fx.hiddenSize), TOL, 'second half');
    expectClose(b.h, Float64Array.from(fx.h), TOL, 'h_n');
    lstm.dispose();
  });

  it('bad input: shapes that disagree with the config, wrong input length', async () => {
    await expect(LSTM.fromSafetensors(engine, bytes, { ...fx, hiddenSize: 8 })).rejects.toThrow(
      /'weight_ih_l0' is \[28, 5\], the config needs \[32, 5\]/,
    );
    await expect(LSTM.fromSafetensors(engine, bytes, { ...fx, numLayers: 3 })).rejects.toThrow(/missing tensor 'weight_ih_l2'/);
    const lstm = await LSTM.fromSafetensors(engine, bytes, fx);
    await expect(lstm.forward(new Float32Array(7), 2)).rejects.toThrow(/x has 7 values, \[2, 5\] needs 10/);
    lstm.dispose();
  });
});
