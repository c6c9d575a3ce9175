/**
 * `npm run sim`: the deterministic simulation of escalation, paging and orders under seeded faults.
 *
 *   npm run sim                              10,000 schedules from seed 1
 *   npm run sim -- --schedules 100000        more
 *   npm run sim -- --seed 4242 --trace       one schedule, its trace and violations (FC_SEED=4242 too)
 *   npm run sim -- --mutation NAME           with a guard removed on purpose (bench/sim/ports.ts MUTATIONS)
 *
 * Exits 1 when any schedule breaks an invariant, printing each failing seed with its replay command.
 */
import { MUTATIONS } from './ports.ts';
import { isMutation, reproduce, sweep } from './run.ts';
import { simulate } from './simulate.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const mutationArg = arg('mutation');
if (mutationArg !== undefined && !isMutation(mutationArg)) {
  console.error(`--mutation must be one of ${MUTATIONS.join(', ')}`);
  process.exit(2);
}
const mutation = mutationArg;
const seedArg = arg('seed') ?? process.env.FC_SEED;

if (seedArg !== undefined) {
  const seed = Number(seedArg);
  const r = await simulate({ seed, trace: flag('trace'), ...(mutation ? { mutation } : {}) });
  if (flag('trace')) for (const line of r.trace) console.log(line);
  console.log(`seed ${seed}: digest ${r.digest}`, r.stats);
  for (const v of r.violations) console.log(`VIOLATION ${v.invariant}: ${v.detail}`);
  process.exit(r.violations.length > 0 ? 1 : 0);
}

const schedules = Number(arg('schedules') ?? 10_000);
const first = Number(arg('first') ?? 1);
let done = 0;
const result = await sweep({
  first,
  schedules,
  ...(mutation ? { mutation } : {}),
  stopAtFirst: flag('stop-at-first'),
  onResult: (r) => {
    done += 1;
    for (const v of r.violations.slice(0, 3))
      console.log(
        `seed ${r.seed} ${v.invariant}: ${v.detail.split('\n')[0]}\n  reproduce: ${reproduce(r.seed, mutation)}`,
      );
    if (done % 1000 === 0) console.error(`${done} schedules …`);
  },
});
const perSecond = result.schedules / (result.ms / 1000);
console.log(
  `${result.schedules} schedules (seeds ${first}–${first + result.schedules - 1}${mutation ? `, mutation ${mutation}` : ''}) in ${(result.ms / 1000).toFixed(1)} s (${(result.cpuMs / 1000).toFixed(1)} CPU-s): ${perSecond.toFixed(0)}/s wall, ${(result.schedules / (result.cpuMs / 1000)).toFixed(0)}/CPU-s; ${result.failing.length} failing`,
);
console.log('totals', result.totals);
for (const [k, n] of result.byInvariant) console.log(`  ${k}: ${n} schedule(s)`);
process.exit(result.failing.length > 0 ? 1 : 0);
