/**
 * A FIFO lock. `release` hands the lock to the longest waiter. The uncontended path allocates nothing:
 * no promise, no closure (point reads run through it once per call).
 */
export class TransactionQueue {
  private locked = false;
  private readonly waiters: (() => void)[] = [];

  /** Takes the lock at once if it is free. */
  tryAcquire(): boolean {
    if (this.locked) return false;
    this.locked = true;
    return true;
  }

  /** Resolves once the caller holds the lock (after every earlier caller released it). */
  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Must be called exactly once per successful acquisition. */
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.locked = false;
  }
}
