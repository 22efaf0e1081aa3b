// A bounded cache of compiled plans, least recently used first out. Models keep one plan per shape
// (a prompt length, an LSTM sequence length, a top-k size); without a bound a chat app's distinct
// prompt lengths would hold GPU memory until the model is disposed. A plan in use is pinned (acquire
// … release) and never evicted under its user; an evicted plan is disposed and its buffers go back to
// the engine's pool (itself bounded).
import type { Plan } from './plan';

interface Entry {
  plan: Promise<Plan>;
  pins: number;
  /** Frees what the plan's owner allocated for it (e.g. state tensors only this plan binds). */
  cleanup?: () => void;
}

export class PlanCache {
  private entries = new Map<string, Entry>();
  private disposed = false;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The plan for `key`, compiled by `build` on first use, pinned until `release(key)`. Build failures
   * are not cached.
   */
  acquire(key: string, build: () => Promise<Plan>, cleanup?: () => void): Promise<Plan> {
    let e = this.entries.get(key);
    if (e)
      this.entries.delete(key); // re-inserted below as the most recent
    else {
      let plan: Promise<Plan>;
      try {
        plan = build();
      } catch (e) {
        plan = Promise.reject(e); // a graph that fails at build time is a failed plan like any other
      }
      const entry: Entry = { plan, pins: 0, cleanup };
      e = entry;
      plan.catch(() => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
        entry.cleanup?.();
      });
    }
    e.pins++;
    this.entries.set(key, e);
    this.evict();
    return e.plan;
  }

  /** Unpins a plan from acquire(); an unpinned plan beyond the capacity is disposed. */
  release(key: string): void {
    const e = this.entries.get(key);
    if (e && e.pins > 0) e.pins--;
    this.evict();
  }

  /** Runs `fn` with the plan for `key` pinned. */
  async use<T>(key: string, build: () => Promise<Plan>, fn: (plan: Plan) => Promise<T>, cleanup?: () => void): Promise<T> {
    const plan = this.acquire(key, build, cleanup);
    try {
      return await fn(await plan);
    } finally {
      this.release(key);
    }
  }

  /**
   * Disposes the unpinned plans whose key ends with `suffix` (their bound tensors are going away, e.g. a
   * LoRA adapter slot); returns how many pinned ones it had to leave.
   */
  drop(suffix: string): number {
    let pinned = 0;
    for (const [key, e] of [...this.entries]) {
      if (!key.endsWith(suffix)) continue;
      if (e.pins > 0) {
        pinned++;
        continue;
      }
      this.entries.delete(key);
      disposeLater(e);
    }
    return pinned;
  }

  private evict(): void {
    for (const [key, e] of this.entries) {
      if (this.entries.size <= this.capacity) return;
      if (e.pins > 0) continue;
      this.entries.delete(key);
      disposeLater(e);
    }
  }

  /** Disposes every plan (pinned or not): the owner is going away. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const e of this.entries.values()) disposeLater(e);
    this.entries.clear();
  }
}

function disposeLater(e: Entry): void {
  e.plan.then(
    (p) => {
      p.dispose();
      e.cleanup?.();
    },
    () => undefined, // a failed build already cleaned up
  );
}
