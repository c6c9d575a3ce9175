/**
 * Simulated time for a replay. The escalation's Wait states mean "until the next bar": a re-check parks
 * here until the replay advances. `settle()` resolves once every running execution is parked or done, so
 * each bar is processed to completion, in order, before the next one.
 */
export class BarClock {
  private current: Date;
  private parked: (() => void)[] = [];
  private busy = 0;

  constructor(start: Date) {
    this.current = start;
  }

  now(): Date {
    return this.current;
  }

  set(time: Date): void {
    this.current = time;
  }

  /** An execution (or any task) starts working. */
  enter(): void {
    this.busy += 1;
  }

  /** It finished. */
  leave(): void {
    this.busy -= 1;
  }

  /** Parks the caller until the next bar. */
  nextBar(): Promise<void> {
    this.busy -= 1;
    return new Promise((resolve) =>
      this.parked.push(() => {
        this.busy += 1;
        resolve();
      }),
    );
  }

  /** Releases everything parked for the next bar. */
  release(): void {
    const waiting = this.parked;
    this.parked = [];
    waiting.forEach((wake) => wake());
  }

  async settle(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.busy > 0) {
      if (Date.now() > deadline)
        throw new Error(`replay stalled: ${this.busy} task(s) still running after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}
