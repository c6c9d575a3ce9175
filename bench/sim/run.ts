import { MUTATIONS, type Mutation } from './ports.ts';
import { simulate, type SimResult, type Violation } from './simulate.ts';

export interface SweepOptions {
  /** First seed; schedules run seeds first, first + 1, … */
  first: number;
  schedules: number;
  mutation?: Mutation;
  /** Stop at the first failing seed (the mutation check). */
  stopAtFirst?: boolean;
  /** Told after every schedule. */
  onResult?: (r: SimResult) => void;
}

export interface SweepResult {
  schedules: number;
  failing: { seed: number; violations: Violation[] }[];
  byInvariant: Map<string, number>;
  ms: number;
  /** CPU time of the sweep (user + system), which a loaded machine does not inflate as it does wall time. */
  cpuMs: number;
  totals: Record<keyof SimResult['stats'], number>;
}

/** The one-line command that replays a seed (with the mutation, if any). */
export const reproduce = (seed: number, mutation?: Mutation) =>
  `npm run sim -- --seed ${seed}${mutation ? ` --mutation ${mutation}` : ''} --trace`;

export async function sweep(o: SweepOptions): Promise<SweepResult> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const failing: SweepResult['failing'] = [];
  const byInvariant = new Map<string, number>();
  const totals = {} as SweepResult['totals'];
  let n = 0;
  for (let seed = o.first; seed < o.first + o.schedules; seed++) {
    const r = await simulate({ seed, ...(o.mutation ? { mutation: o.mutation } : {}) });
    n += 1;
    for (const [k, v] of Object.entries(r.stats))
      totals[k as keyof SimResult['stats']] = (totals[k as keyof SimResult['stats']] ?? 0) + v;
    o.onResult?.(r);
    if (r.violations.length > 0) {
      failing.push({ seed, violations: r.violations });
      for (const v of new Set(r.violations.map((x) => x.invariant)))
        byInvariant.set(v, (byInvariant.get(v) ?? 0) + 1);
      if (o.stopAtFirst) break;
    }
  }
  const used = process.cpuUsage(cpu);
  return {
    schedules: n,
    failing,
    byInvariant,
    ms: performance.now() - started,
    cpuMs: (used.user + used.system) / 1000,
    totals,
  };
}

export function isMutation(s: string): s is Mutation {
  return (MUTATIONS as readonly string[]).includes(s);
}
