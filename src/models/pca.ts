// PCA with the engine: the covariance XᵀX and the projection run as GPU matmuls; the top components
// of the small [d, d] covariance come from power iteration with deflation on the CPU.
import type { GPUContext } from '../gpu/engine';
import { Graph } from '../graph/graph';
import { ShapeError } from '../errors';

export interface PCAResult {
  /** [n, k] row-major. */
  coords: Float32Array;
  /** [k, d] unit vectors. */
  components: Float32Array;
  /** Fraction of the variance along each component. */
  explained: number[];
}

export async function pca(engine: GPUContext, data: Float32Array, n: number, d: number, k = 2): Promise<PCAResult> {
  if (data.length !== n * d) throw new ShapeError(`pca: ${data.length} values do not fill [${n}, ${d}]`);
  if (n < 2 || k < 1 || k > d) throw new ShapeError(`pca: needs at least 2 rows and 1 ≤ k ≤ ${d}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j] / n;
  const xc = Float32Array.from(data, (v, i) => v - mean[i % d]);
  const xt = new Float32Array(d * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) xt[j * n + i] = xc[i * d + j];

  const g = new Graph(engine, 'pca covariance');
  const covPlan = await g.compile({ cov: g.matmul(g.input('xt', [d, n]), g.input('x', [n, d])) });
  const cov = Float64Array.from((await covPlan.run({ xt, x: xc })).cov as Float32Array, (v) => v / (n - 1));
  covPlan.dispose();

  let total = 0;
  for (let j = 0; j < d; j++) total += cov[j * d + j];
  const components = new Float32Array(k * d);
  const explained: number[] = [];
  for (let c = 0; c < k; c++) {
    let v = Float64Array.from({ length: d }, (_, j) => 1 + ((j * 7919 + c) % 13) / 13);
    let lambda = 0;
    for (let it = 0; it < 300; it++) {
      const w = new Float64Array(d);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) w[i] += cov[i * d + j] * v[j];
      const norm = Math.hypot(...w);
      if (norm === 0) break;
      lambda = norm;
      v = w.map((x) => x / norm);
    }
    components.set(Float32Array.from(v), c * d);
    explained.push(total > 0 ? lambda / total : 0);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i * d + j] -= lambda * v[i] * v[j];
  }
  const vt = new Float32Array(d * k);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) vt[j * k + c] = components[c * d + j];
  const p = new Graph(engine, 'pca projection');
  const projPlan = await p.compile({ coords: p.matmul(p.input('x', [n, d]), p.input('v', [d, k])) });
  const coords = (await projPlan.run({ x: xc, v: vt })).coords as Float32Array;
  projPlan.dispose();
  return { coords, components, explained };
}
