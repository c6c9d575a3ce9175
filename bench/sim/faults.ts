import type { SimClock } from './clock.ts';

/** What one adapter call does under the schedule's faults. */
export type FaultKind =
  /** Refused before it did anything: a throttle or a 5xx (after the SDK's own retries). */
  | 'throttle'
  | 'server-error'
  /** It did its work, then the answer was lost: a timeout after success. */
  | 'timeout-after-success'
  /** The function dies here: this call and every later one of the invocation fail (Sandbox.Timedout). */
  | 'crash';

export const FAULT_KINDS: readonly FaultKind[] = [
  'throttle',
  'server-error',
  'timeout-after-success',
  'crash',
];

/** The schedule's faults: each adapter call inside the window draws one with probability `rate`. */
export interface FaultPlan {
  from: number;
  until: number;
  rate: number;
  /** Relative weights of the kinds. */
  weights: Record<FaultKind, number>;
  /** Adapters (port names) that never fail in this schedule. */
  spared: ReadonlySet<string>;
}

export const NO_FAULTS: FaultPlan = {
  from: 0,
  until: 0,
  rate: 0,
  weights: { throttle: 1, 'server-error': 1, 'timeout-after-success': 1, crash: 1 },
  spared: new Set(),
};

export class SimError extends Error {
  constructor(name: string, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = name;
    Object.assign(this, extra);
  }
}

export const throttled = (what: string) =>
  new SimError('ThrottlingException', `${what}: Rate exceeded`, {
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    $retryable: { throttling: true },
  });
export const serverError = (what: string) =>
  new SimError('InternalServerError', `${what}: internal error`, {
    $fault: 'server',
    $metadata: { httpStatusCode: 500 },
  });
export const timedOut = (what: string) =>
  new SimError('TimeoutError', `${what}: socket timed out after the request was sent`, { code: 'ETIMEDOUT' });
/** What Step Functions reports for a Lambda that died or ran out of time. */
export const CRASH = 'Sandbox.Timedout';

/** Counts of faults injected, by kind and port. */
export type FaultLog = Map<string, number>;

/**
 * One function invocation (a step, a handler run): the adapters it is given consult the plan at each
 * call. After a crash every call fails, so the invocation ends as a Lambda that died part-way.
 */
export class Invocation {
  crashed = false;
  readonly startedAt: number;

  constructor(
    readonly clock: SimClock,
    readonly plan: FaultPlan,
    readonly random: () => number,
    readonly log: FaultLog,
    readonly name: string,
  ) {
    this.startedAt = clock.now;
  }

  private draw(port: string): FaultKind | null {
    const now = this.clock.now;
    if (this.plan.rate <= 0 || now < this.plan.from || now >= this.plan.until) return null;
    if (this.plan.spared.has(port)) return null;
    if (this.random() >= this.plan.rate) return null;
    const total = FAULT_KINDS.reduce((n, k) => n + this.plan.weights[k], 0);
    let pick = this.random() * total;
    for (const k of FAULT_KINDS) {
      pick -= this.plan.weights[k];
      if (pick < 0) return k;
    }
    return null;
  }

  /** One adapter call: a turn of the event loop (so concurrent processes interleave), then the fault, if any. */
  async call<T>(port: string, method: string, work: () => Promise<T>): Promise<T> {
    // Zero to two turns: the seed decides how concurrent calls interleave.
    const turns = this.random() < 0.2 ? 2 : 1;
    for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
    const what = `${port}.${method}`;
    if (this.crashed) throw new SimError(CRASH, `${this.name}: the function already died`);
    const fault = this.draw(port);
    if (fault) this.log.set(`${fault} ${port}`, (this.log.get(`${fault} ${port}`) ?? 0) + 1);
    if (fault === 'throttle') throw throttled(what);
    if (fault === 'server-error') throw serverError(what);
    if (fault === 'crash') {
      this.crashed = true;
      throw new SimError(CRASH, `${this.name} died at ${what}`);
    }
    const out = await work();
    if (fault === 'timeout-after-success') throw timedOut(what);
    return out;
  }

  /** Wraps every method of `target` (an adapter object) with `call`. */
  wrap<T extends object>(port: string, target: T): T {
    return new Proxy(target, {
      get: (obj, key, receiver) => {
        const value = Reflect.get(obj, key, receiver);
        if (typeof value !== 'function' || typeof key !== 'string' || key === 'constructor') return value;
        return (...args: unknown[]) =>
          this.call(port, key, () =>
            Promise.resolve((value as (...a: unknown[]) => unknown).apply(obj, args)),
          );
      },
    });
  }
}
