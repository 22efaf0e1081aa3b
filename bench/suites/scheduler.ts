// Scheduler overhead: CPU time to encode and submit one run of a 100-dispatch plan, against the same
// chain run op by op with a fresh uniform buffer and bind group per dispatch (as op-by-op engines do).
// Only the CPU side is timed; the GPU drains between samples, outside the timed section.
import { getOp, packUniform, shaderFor, type Engine, type SymbolicTensor } from 'webgpu-nlp';
import type { BenchCase, Runner, Suite } from './types';

const N = 1024;
const DISPATCHES = 100;

/** x -> gelu -> add x -> gelu -> add x ... : DISPATCHES element-wise ops on [N]. */
function chainOps(): ('gelu' | 'add')[] {
  return Array.from({ length: DISPATCHES }, (_, i) => (i % 2 ? 'add' : 'gelu'));
}

async function planRunner(engine: Engine): Promise<Runner> {
  const g = engine.graph('chain');
  const x = g.input('x', [N]);
  let h: SymbolicTensor = x;
  for (const op of chainOps()) h = op === 'gelu' ? g.gelu(h) : g.add(h, x);
  const plan = await g.compile({ y: h }, { fuse: false });
  const feeds = { x: new Float32Array(N) };
  return {
    async run() {
      const t0 = performance.now();
      engine.device.queue.submit([plan.encode(feeds)]);
      const ms = performance.now() - t0;
      await engine.device.queue.onSubmittedWorkDone();
      return ms;
    },
    dispose: () => plan.dispose(),
  };
}

async function opByOpRunner(engine: Engine): Promise<Runner> {
  const device = engine.device;
  const info = { shape: [N], dtype: 'f32' as const };
  const ctx = { limits: engine.limits, features: engine.features, tuning: {} };
  const steps = await Promise.all(
    chainOps().map(async (name) => {
      const desc = getOp(name);
      const inputs = name === 'gelu' ? [info] : [info, info];
      const call = desc.kernel(inputs, info, {}, ctx);
      return { call, kernel: await engine.pipelines.get(shaderFor(desc, ctx, call), call.entry, call.constants ?? {}) };
    }),
  );
  const usage = 0x80 | 0x04 | 0x08;
  const x = device.createBuffer({ label: 'x', size: N * 4, usage });
  const ping = [device.createBuffer({ label: 'ping', size: N * 4, usage }), device.createBuffer({ label: 'pong', size: N * 4, usage })];
  const input = new Float32Array(N);
  return {
    async run() {
      const t0 = performance.now();
      device.queue.writeBuffer(x, 0, input);
      const uniforms: GPUBuffer[] = [];
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      let src = x;
      steps.forEach(({ call, kernel }, i) => {
        const layout = kernel.entry.uniform!;
        const bytes = new ArrayBuffer(Math.ceil(layout.size / 16) * 16);
        packUniform(layout, call.uniforms as Record<string, number>, new DataView(bytes), 0, 'op-by-op');
        const ub = device.createBuffer({ size: bytes.byteLength, usage: 0x40 | 0x08 });
        device.queue.writeBuffer(ub, 0, bytes);
        uniforms.push(ub);
        const dst = ping[i % 2];
        const storage = i % 2 ? [src, x, dst] : [src, dst];
        const bg = device.createBindGroup({
          layout: kernel.layout,
          entries: [{ binding: 0, resource: { buffer: ub } }, ...storage.map((buffer, j) => ({ binding: j + 1, resource: { buffer } }))],
        });
        pass.setPipeline(kernel.pipeline);
        pass.setBindGroup(0, bg);
        pass.dispatchWorkgroups(call.grid[0], call.grid[1], call.grid[2]);
        src = dst;
      });
      pass.end();
      device.queue.submit([enc.finish()]);
      const ms = performance.now() - t0;
      await device.queue.onSubmittedWorkDone();
      for (const u of uniforms) u.destroy();
      return ms;
    },
    dispose() {
      x.destroy();
      for (const b of ping) b.destroy();
    },
  };
}

export const schedulerSuite: Suite = {
  name: 'scheduler',
  description: 'CPU cost of encoding and submitting a 100-dispatch plan, against op-by-op dispatch',
  cases(): BenchCase[] {
    return [
      {
        kernel: 'plan encode+submit',
        size: `${DISPATCHES} dispatches`,
        flops: 0,
        bytes: 0,
        dispatches: DISPATCHES,
        variants: [
          { name: 'ours', setup: ({ engine }) => planRunner(engine) },
          { name: 'op-by-op', setup: ({ engine }) => opByOpRunner(engine) },
        ],
      },
    ];
  },
};
