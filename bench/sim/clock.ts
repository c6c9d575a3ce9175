/**
 * The simulation's virtual clock and scheduler. Every simulated process (an execution, the price feed,
 * the starter's poller, the broker, the flush…) is spawned here and waits only on `sleep` or on in-memory
 * I/O (a `setImmediate` turn each, see faults.ts). When every live process is asleep, the clock jumps to
 * the earliest wake-up; wake-ups due at the same instant run in an order the seed decides (reordering).
 * Nothing waits on real time, so the same seed gives the same run, event for event.
 */
export class SimClock {
  private readonly timers: { at: number; tie: number; seq: number; wake: () => void }[] = [];
  private seq = 0;
  private live = 0;
  private asleep = 0;
  /** Wake-ups run so far (a measure of the schedule's length). */
  steps = 0;

  constructor(
    public now: number,
    private readonly random: () => number,
  ) {}

  date = (): Date => new Date(this.now);

  sleep = (ms: number): Promise<void> =>
    new Promise((wake) => {
      this.asleep += 1;
      this.timers.push({
        at: this.now + Math.max(0, Math.floor(ms)),
        tie: this.random(),
        seq: this.seq++,
        wake,
      });
    });

  /** A wait that something else may end first (`cancel`): a callback task's timeout, say. */
  timer(ms: number): { done: Promise<void>; cancel: () => void } {
    let entry: (typeof this.timers)[number] | undefined;
    const done = new Promise<void>((wake) => {
      this.asleep += 1;
      entry = { at: this.now + Math.max(0, Math.floor(ms)), tie: this.random(), seq: this.seq++, wake };
      this.timers.push(entry);
    });
    return {
      done,
      cancel: () => {
        const i = this.timers.indexOf(entry!);
        if (i < 0) return;
        this.timers.splice(i, 1);
        this.asleep -= 1;
      },
    };
  }

  /** Runs `work` as a process of the simulation; its failure is handed to `onError` (never unhandled). */
  spawn(work: () => Promise<unknown>, onError: (e: unknown) => void): void {
    this.live += 1;
    void Promise.resolve()
      .then(work)
      .catch(onError)
      .finally(() => {
        this.live -= 1;
      });
  }

  /** Advances until nothing is left to run or the next wake-up is after `until`. */
  async run(until: number): Promise<void> {
    for (;;) {
      for (let spins = 0; this.asleep < this.live; spins++) {
        if (spins > 200_000)
          throw new Error('simulation stuck: a process waits on something other than the clock');
        await new Promise<void>((r) => setImmediate(r));
      }
      if (this.timers.length === 0) return;
      let best = 0;
      for (let i = 1; i < this.timers.length; i++) {
        const a = this.timers[i]!;
        const b = this.timers[best]!;
        if (a.at < b.at || (a.at === b.at && (a.tie < b.tie || (a.tie === b.tie && a.seq < b.seq)))) best = i;
      }
      const next = this.timers[best]!;
      if (next.at > until) return;
      this.timers.splice(best, 1);
      this.asleep -= 1;
      this.now = Math.max(this.now, next.at);
      this.steps += 1;
      next.wake();
    }
  }

  /** Processes still alive (asleep past the horizon). */
  get pending(): number {
    return this.live;
  }
}
