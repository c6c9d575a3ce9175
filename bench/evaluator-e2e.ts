/**
 * The evaluator end to end, as the work-queue Lambda runs it: SQS records → the real work-queue handler
 * (message schema, per-message price cache, batch evaluation) → evaluateAccount → the engine, the state
 * write, the outbox, the guard-band diff and write — over the in-memory adapters (bench/memory-store.ts),
 * so what is measured is the evaluator's own CPU and no I/O. Run from an esbuild bundle (npm run bench,
 * npm run bench:evaluator), like the Lambdas.
 *
 * CPU is process CPU time (process.cpuUsage: user + system) of this single-threaded process, divided by
 * the evaluations run; the wall time is printed beside it. Three phases over one population
 * (bench/population.ts: ~20 positions, Reg T / gross / tiered):
 * - first sweep: every account seen for the first time (compile, state written, every band written);
 * - sweeps: 15-minute sweeps of a random walk (the backstop sweep's steady state, most evaluations a
 *   month): mostly reads and the engine, a few state and band writes;
 * - after a drop: every instrument 3% lower, every account evaluated through account messages of 25, as a
 *   price-stream fan-out delivers them (the crash path: state written, bands rewritten).
 *
 * Only APIs that already existed before the crash-scale work are used (makeWorkQueueHandler,
 * memoryHandlerDeps, MemoryStore, MemoryBands), so the same file measures commit 3489e2c too (see
 * BEFORE below and docs/guard-bands.md).
 */
import type { SQSRecord } from 'aws-lambda';
import { makeWorkQueueHandler } from '../functions/work-queue/handler.ts';
import { MemoryBands, MemoryStore, memoryHandlerDeps } from './memory-store.ts';
import { MODEL_MIX, population, type PopulationOptions } from './population.ts';
import { prng } from './prng.ts';

export interface PhaseResult {
  evaluations: number;
  cpuMs: number;
  wallMs: number;
  cpuMsPerEvaluation: number;
  /** Evaluations per second of one core's CPU time. */
  evaluationsPerCpuSecond: number;
  stateWritesPerEvaluation: number;
  bandWritesPerEvaluation: number;
}

export interface EvaluatorE2EResult {
  accounts: number;
  positionsPerAccount: number;
  instruments: number;
  models: typeof MODEL_MIX;
  phases: { 'first-sweep': PhaseResult; sweeps: PhaseResult; 'after-drop': PhaseResult };
}

/**
 * The "before" figure: this file (with bench/evaluator-main.ts, bench/population.ts and bench/prng.ts
 * copied in; nothing else changed) run on commit 3489e2c, the evaluator before the crash-scale work
 * (bucketed band index, once-per-wave evaluation, batch re-check, coalescing), 1,000 accounts:
 *   git worktree add /tmp/mg-before 3489e2c && ln -s "$PWD/node_modules" /tmp/mg-before/node_modules
 *   cp bench/{evaluator-e2e,evaluator-main,population,prng}.ts /tmp/mg-before/bench/
 *   cd /tmp/mg-before && npx esbuild bench/evaluator-main.ts --bundle --platform=node --format=esm \
 *     --packages=external --outfile=out/bench/evaluator.mjs && node --expose-gc out/bench/evaluator.mjs --no-write
 * Median of 5 runs (separate processes), interleaved with 5 runs of this tree (8f636c0 and work in
 * progress, same bundle flags) on the same 2-core machine, 1 December 2026, while other test suites ran
 * (load average 13–20): CPU time rather than wall time, but still noisy (paired ratios 0.8–1.75). The same
 * runs of this tree gave medians of 104, 216 and 166 evaluations/s per core.
 */
export const BEFORE = {
  commit: '3489e2c',
  command:
    'node --expose-gc out/bench/evaluator.mjs --no-write (bench/evaluator-main.ts bundled in a worktree of 3489e2c), median of 5',
  accounts: 1_000,
  phases: {
    'first-sweep': { cpuMsPerEvaluation: 10.738, evaluationsPerCpuSecond: 93 },
    sweeps: { cpuMsPerEvaluation: 5.162, evaluationsPerCpuSecond: 194 },
    'after-drop': { cpuMsPerEvaluation: 6.838, evaluationsPerCpuSecond: 146 },
  },
} as const;

/** Accounts the bench evaluates by default (each phase evaluates every one of them). */
export const EVALUATOR_ACCOUNTS = 1_000;

const T0 = Date.parse('2026-01-05T15:00:00Z'); // a Monday, 10:00 in New York: the market is open
const iso = (ms: number) => new Date(ms).toISOString();

export async function runEvaluatorE2E(
  options: Partial<PopulationOptions> & { sweeps?: number } = {},
): Promise<EvaluatorE2EResult> {
  const sweeps = options.sweeps ?? 4;
  const items = population({ accounts: EVALUATOR_ACCOUNTS, ...options });
  const store = new MemoryStore();
  const bands = new MemoryBands();
  for (const a of items.accounts) store.accounts.set(a.accountId, a);
  for (const [id, ps] of items.positions) store.positions.set(id, ps);
  let clock = T0;
  const price = new Map([...items.prices].map(([i, p]) => [i, Number(p)])); // a walk of cents, not money
  const publish = (factor: (instrument: string) => number) => {
    for (const [instrument, p] of price) {
      const next = Math.max(0.01, Math.round(p * factor(instrument) * 100) / 100);
      price.set(instrument, next);
      store.prices.set(instrument, { instrument, price: next.toFixed(2), priceTime: iso(clock) });
    }
  };
  publish(() => 1);
  const deps = {
    ...memoryHandlerDeps(store, { sweepSegments: 1, concurrency: 16 }, bands),
    now: () => new Date(clock),
  };
  const worker = makeWorkQueueHandler(() => deps);
  let seq = 0;
  const run = async (bodies: readonly unknown[]) => {
    for (let i = 0; i < bodies.length; i += 10) {
      const Records = bodies
        .slice(i, i + 10)
        .map((b) => ({ messageId: `m${seq++}`, body: JSON.stringify(b) }) as SQSRecord);
      const out = await worker({ Records } as never);
      if (out.batchItemFailures.length > 0) throw new Error('evaluator bench: a work message failed');
    }
  };
  const segment = () => [{ kind: 'segment', segment: 0, totalSegments: 1, sweepId: `bench-${seq}` }];
  const gc = (globalThis as { gc?: () => void }).gc;
  const measure = async (body: () => Promise<void>): Promise<PhaseResult> => {
    gc?.();
    const evaluations0 = store.evaluations;
    const writes0 = store.writes;
    const bandWrites0 = bands.writes;
    const cpu0 = process.cpuUsage();
    const wall0 = process.hrtime.bigint();
    await body();
    const cpu = process.cpuUsage(cpu0);
    const wallMs = Number(process.hrtime.bigint() - wall0) / 1e6;
    const evaluations = store.evaluations - evaluations0;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    return {
      evaluations,
      cpuMs,
      wallMs,
      cpuMsPerEvaluation: cpuMs / evaluations,
      evaluationsPerCpuSecond: (evaluations * 1000) / cpuMs,
      stateWritesPerEvaluation: (store.writes - writes0) / evaluations,
      bandWritesPerEvaluation: (bands.writes - bandWrites0) / evaluations,
    };
  };

  const firstSweep = await measure(() => run(segment()));
  const random = prng((options.seed ?? 7) + 1);
  const step = 0.004 * Math.sqrt(15); // a random walk over 15 minutes: the move grows with √time
  const steady = await measure(async () => {
    for (let s = 0; s < sweeps; s++) {
      clock += 15 * 60_000;
      publish(() => 1 + (random() - 0.5) * step);
      await run(segment());
    }
  });
  const ids = items.accounts.map((a) => a.accountId);
  const afterDrop = await measure(async () => {
    clock += 60_000;
    publish(() => 0.97);
    const messages = [];
    for (let i = 0; i < ids.length; i += 25)
      messages.push({ kind: 'accounts', accountIds: ids.slice(i, i + 25), reason: 'bench:drop' });
    await run(messages);
  });
  return {
    accounts: items.accounts.length,
    positionsPerAccount: options.positionsPerAccount ?? 20,
    instruments: items.instruments.length,
    models: MODEL_MIX,
    phases: { 'first-sweep': firstSweep, sweeps: steady, 'after-drop': afterDrop },
  };
}

/** Each phase's median over several runs (by evaluations per CPU second); the runs must match in size. */
export function medianRun(runs: readonly EvaluatorE2EResult[]): EvaluatorE2EResult {
  const phases = Object.fromEntries(
    (Object.keys(runs[0]!.phases) as (keyof EvaluatorE2EResult['phases'])[]).map((name) => {
      const sorted = runs
        .map((r) => r.phases[name])
        .sort((a, b) => a.evaluationsPerCpuSecond - b.evaluationsPerCpuSecond);
      return [name, sorted[Math.floor(sorted.length / 2)]!];
    }),
  ) as EvaluatorE2EResult['phases'];
  return { ...runs[0]!, phases };
}

/** Warm every path (JIT) on a small population before measuring. */
export async function warmEvaluator(): Promise<void> {
  await runEvaluatorE2E({ accounts: 300, sweeps: 2, seed: 99 });
}

const PHASE_LABELS: Record<keyof EvaluatorE2EResult['phases'], string> = {
  'first-sweep': 'first sweep (first sight: state and every band written)',
  sweeps: '15-minute sweeps of a random walk (steady state)',
  'after-drop': 'after a 3% drop, account messages of 25 (crash path)',
};

export function printEvaluatorE2E(r: EvaluatorE2EResult, before: typeof BEFORE | null = BEFORE): void {
  console.log(
    `\nevaluator end to end: real work-queue handler over MemoryStore/MemoryBands, ${r.accounts} accounts × ${r.positionsPerAccount} positions (${Object.entries(
      r.models,
    )
      .map(([m, s]) => `${m} ${s * 100}%`)
      .join(', ')}), ${r.instruments} instruments, one process, CPU time`,
  );
  for (const [name, p] of Object.entries(r.phases) as [keyof EvaluatorE2EResult['phases'], PhaseResult][]) {
    const was = before?.phases[name].evaluationsPerCpuSecond;
    const versus =
      was !== undefined && Number.isFinite(was)
        ? `  before ${was.toFixed(0)}/s, now ${p.evaluationsPerCpuSecond.toFixed(0)}/s per core (${(p.evaluationsPerCpuSecond / was).toFixed(2)}x)`
        : '';
    console.log(
      `  ${PHASE_LABELS[name].padEnd(58)} ${p.evaluationsPerCpuSecond.toFixed(0).padStart(6)} evals/s per core  ${p.cpuMsPerEvaluation.toFixed(3)} ms CPU/eval  (wall ${(p.wallMs / p.evaluations).toFixed(3)} ms; ${p.stateWritesPerEvaluation.toFixed(3)} state, ${p.bandWritesPerEvaluation.toFixed(3)} band writes/eval)${versus}`,
    );
  }
  if (before)
    console.log(
      `  before = commit ${before.commit}, same bench and machine (bench/evaluator-e2e.ts BEFORE: ${before.command})`,
    );
}

/** bench/evaluator-cpu.json: the measured CPU per evaluation, for the capacity and cost models. */
export function evaluatorCpuJson(r: EvaluatorE2EResult, tree: string) {
  const per = <K extends keyof PhaseResult>(key: K) =>
    Object.fromEntries(
      Object.entries(r.phases).map(([name, p]) => [name, round(p[key] as number)]),
    ) as Record<keyof EvaluatorE2EResult['phases'], number>;
  return {
    about:
      'CPU per evaluation of the real work-queue handler over the in-memory adapters, esbuild bundle, one process (process.cpuUsage user+system / evaluations). Phases: first-sweep (first sight), sweeps (15-minute sweeps, steady state), after-drop (crash path: state and bands rewritten). Written by bench/evaluator-e2e.ts.',
    command: 'npm run bench:evaluator (also written by npm run bench)',
    measured: { at: new Date().toISOString(), node: process.version, tree },
    population: {
      accounts: r.accounts,
      positionsPerAccount: r.positionsPerAccount,
      instruments: r.instruments,
      models: r.models,
    },
    cpuMsPerEvaluation: per('cpuMsPerEvaluation'),
    evaluationsPerCpuSecond: per('evaluationsPerCpuSecond'),
    stateWritesPerEvaluation: per('stateWritesPerEvaluation'),
    bandWritesPerEvaluation: per('bandWritesPerEvaluation'),
    before: BEFORE,
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
