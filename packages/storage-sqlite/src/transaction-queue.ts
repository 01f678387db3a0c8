/**
 * A FIFO lock. `acquire` resolves with a release function once every earlier holder has released.
 * Uncontended acquisition costs one resolved promise, so point reads stay cheap.
 */
export class TransactionQueue {
  private tail: Promise<void> = Promise.resolve();
  private holders = 0;

  /** How many callers hold or wait for the lock. */
  get size(): number {
    return this.holders;
  }

  acquire(): Promise<() => void> {
    this.holders++;
    const previous = this.tail;
    let release!: () => void;
    const next = new Promise<void>((resolve) => {
      let done = false;
      release = () => {
        if (done) return;
        done = true;
        this.holders--;
        resolve();
      };
    });
    this.tail = next;
    return previous.then(() => release);
  }

  /** Resolves once everything queued so far has released. */
  idle(): Promise<void> {
    return this.tail;
  }
}
