// lstm_cell: one time step of one LSTM layer (PyTorch gate order i, f, g, o), updating the layer's
// work buffer [T + 3, H] in place. Kernel: shaders/lstm.wgsl.
import { compose } from '../wgsl/compose';
import { ShapeError, formatShape } from '../errors';
import type { OpDescriptor } from './types';

export interface LstmCellAttrs {
  t: number;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export const lstmCell: OpDescriptor<LstmCellAttrs> = {
  name: 'lstm_cell',
  inputs: ['xproj', 'whh_t', 'work'],
  shader: compose('lstm'),
  infer([xproj, whhT, work], a) {
    if (!xproj || !whhT || !work) throw new ShapeError('lstm_cell: needs xproj, W_hhᵀ and the work buffer');
    const [T, G] = xproj.shape;
    const H = G / 4;
    const shapes = `xproj ${formatShape(xproj.shape)}, W_hhᵀ ${formatShape(whhT.shape)}, work ${formatShape(work.shape)}`;
    if (xproj.shape.length !== 2 || !Number.isInteger(H) || whhT.shape.join() !== `${H},${G}` || work.shape.join() !== `${T + 3},${H}`) {
      throw new ShapeError(`lstm_cell: expected xproj [T, 4H], W_hhᵀ [H, 4H], work [T + 3, H]; got ${shapes}`);
    }
    if (!(Number.isInteger(a.t) && a.t >= 0 && a.t < T)) throw new ShapeError(`lstm_cell: step ${a.t} outside 0..${T - 1}`);
    return work;
  },
  kernel([xproj], _o, a) {
    const [T, G] = xproj.shape;
    const H = G / 4;
    return { entry: 'main', constants: { WG: 64 }, uniforms: { T, H, t: a.t }, grid: [Math.ceil(H / 64), 1, 1] };
  },
  /** The work buffer after step t. */
  reference([xproj, whhT, work], infos, a) {
    const [T, G] = infos[0].shape;
    const H = G / 4;
    const out = Float64Array.from(work);
    const t = a.t;
    for (let j = 0; j < H; j++) {
      const g = [0, 1, 2, 3].map((q) => {
        let s = xproj[t * G + q * H + j];
        for (let k = 0; k < H; k++) s += whhT[k * G + q * H + j] * work[t * H + k];
        return s;
      });
      const c = sigmoid(g[1]) * work[(T + 1 + (t % 2)) * H + j] + sigmoid(g[0]) * Math.tanh(g[2]);
      out[(t + 1) * H + j] = sigmoid(g[3]) * Math.tanh(c);
      out[(T + 1 + ((t + 1) % 2)) * H + j] = c;
    }
    return out;
  },
};
