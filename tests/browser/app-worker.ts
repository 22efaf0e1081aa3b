// The worker of tests/browser/app-load.test.ts: the engine, exposed as an app's worker file would, plus
// one custom method (engine.call) that reports progress and transfers its result.
import { exposeEngine } from '../../src/index';

exposeEngine(self, {
  methods: {
    async squares(n: unknown, ctx) {
      const out = new Float32Array(n as number);
      for (let i = 0; i < out.length; i++) {
        out[i] = i * i;
        ctx.progress({ done: i + 1, total: out.length });
      }
      ctx.transfer([out.buffer]);
      return { out, model: ctx.loaded?.info.arch ?? null };
    },
    /** Counts until cancelled, then answers how far it got (the page waits for it with settleInWorker). */
    async count(bytes: unknown, ctx) {
      let n = 0;
      while (!ctx.signal.aborted) {
        ctx.progress(++n);
        await new Promise((r) => setTimeout(r, 5));
      }
      return { n, received: (bytes as Uint8Array).byteLength };
    },
  },
});
