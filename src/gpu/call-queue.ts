// Work that must execute in call order: each function starts after every one queued before it has
// settled, whether it succeeded or failed. The engine orders plan runs, reads and deferred writes with
// one; a model orders the calls that touch its stored state with another.
export class CallQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  /** True while queued work has not settled. */
  get busy(): boolean {
    return this.pending > 0;
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    this.pending++;
    const next = this.tail.then(fn, fn);
    const settle = () => void this.pending--;
    this.tail = next.then(settle, settle);
    return next;
  }
}
