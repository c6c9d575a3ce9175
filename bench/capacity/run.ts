/**
 * `npm run capacity [-- --json] [--accounts N] [--sample S]`: the capacity model (model.ts) at 1,000,000
 * accounts by default, printed per scenario against the goals of issue 19.
 */
import { LIMITS } from './limits.ts';
import { runCapacity, type ScenarioReport } from './model.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const json = args.includes('--json');
const options = {
  ...(flag('accounts') ? { accounts: Number(flag('accounts')) } : {}),
  ...(flag('sample') ? { sample: Number(flag('sample')) } : {}),
};
const reports = await runCapacity(options);

export const GOALS: Record<string, (r: ScenarioReport) => [string, boolean][]> = {
  'crash-tick': (r) => [
    [`last RiskLevelChanged ${r.lastRiskLevelChangedS} s ≤ 10 s`, r.lastRiskLevelChangedS <= 10],
    [
      `every escalation started ${r.lastEscalationStartedS} s ≤ 60 s, ${r.droppedEscalations} dropped`,
      r.lastEscalationStartedS <= 60 && r.droppedEscalations === 0,
    ],
    [`every band row rewritten ${r.lastBandRowS} s ≤ 30 s`, r.lastBandRowS <= 30],
    [
      `duplicate evaluations ${(r.duplicateEvaluationShare * 100).toFixed(2)}% < 5%`,
      r.duplicateEvaluationShare < 0.05,
    ],
  ],
  'trading-second': (r) => [
    [`price-stream lag p99 ${r.priceLagP99S} s < 1 s`, (r.priceLagP99S ?? Infinity) < 1],
  ],
  'market-open': (r) => [[`re-banded ${r.rebandedS} s ≤ 60 s`, r.rebandedS <= 60]],
  'first-sweep': (r) => [
    [`every state and band written in ${r.rebandedS} s (no goal; bounded by the sweep's parallelism)`, true],
  ],
};

/** The goal each scenario's binding resource is held to (the band-row and re-band goals above). */
const GOAL_SECONDS: Record<string, number> = { 'crash-tick': 30, 'market-open': 60 };

if (json) {
  console.log(JSON.stringify({ scenarios: reports }, null, 2));
} else {
  for (const r of reports) {
    console.log(
      `\n## ${r.name}: ${r.evaluations.toLocaleString('en-US')} evaluations, ${r.levelChanges.toLocaleString('en-US')} level changes, ${r.escalationStarts.toLocaleString('en-US')} escalation starts`,
    );
    for (const [text, ok] of GOALS[r.name]?.(r) ?? []) console.log(`  ${ok ? 'meets' : 'MISSES'}  ${text}`);
    console.log(`  binding: ${r.binding}; next: ${r.next} (margin ${r.marginToNextS} s)`);
    if (r.levelChanges > 0)
      console.log(
        `  state phase (states and level changes, before band writes and re-checks): ${r.statePhaseS} s, bound by ${r.statePhaseBinding}; ${r.messages} work messages`,
      );
    const goalS = GOAL_SECONDS[r.name];
    const table = /^dynamodb:(\w+) table (writes|reads)/.exec(r.binding);
    if (goalS !== undefined && table && r.bindings[0]!.seconds > goalS) {
      const quota =
        table[2] === 'writes' ? LIMITS.dynamodb.tableWriteUnitsPerS : LIMITS.dynamodb.tableReadUnitsPerS;
      const needed = Math.ceil((r.bindings[0]!.seconds * quota) / goalS);
      console.log(
        `  to meet ${goalS} s: ${table[1]} needs ${needed.toLocaleString('en-US')} ${table[2] === 'writes' ? 'write' : 'read'} units/s ` +
          `(${(needed / quota).toFixed(1)}× the default per-table quota of ` +
          `${quota.toLocaleString('en-US')}, adjustable; on-demand has no account-level cap)`,
      );
    }
    for (const b of r.bindings) console.log(`    ${b.seconds.toFixed(2).padStart(8)} s  ${b.resource}`);
    for (const k of r.hottestKeys.slice(0, 3))
      console.log(`    hottest key ${k.key}: ${k.writeUnits} WU, ${k.readUnits} RU over the scenario`);
    console.log(`  CPU per evaluation (measured here, bundled): ${r.cpuMsPerEvaluation} ms`);
  }
}
