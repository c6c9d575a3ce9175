/**
 * Pre-trade what-if latency (issue 25): p50 / p99 of whatIf() in process on a 50-position Reg T book and a
 * 50-position tiered book, one proposed order each call (alternately adding and reducing, held and new
 * instruments), on the fast path (summary evaluations, no per-position call prices). The goal is a p99
 * under 10 ms; printed as a ratio to it. Each call's result is read whole (whatIfToJson), as a broker would. BENCH_WHATIF_CALLS sets the number of timed calls (default 2,000).
 */
import { availableParallelism, loadavg } from 'node:os';
import { parseOrThrow } from '../shared/errors.ts';
import { parseEvaluationInput } from '../shared/margin/evaluate.ts';
import { proposedOrdersSchema, whatIf, whatIfToJson } from '../shared/risk/what-if.ts';

const POSITIONS = 50;
const GOAL_MS = 10;

function book(model: 'reg-t' | 'tiered') {
  const positions = Array.from({ length: POSITIONS }, (_, i) => {
    const price = `${20 + ((i * 37) % 400)}.${String((i * 13) % 100).padStart(2, '0')}`;
    const short = model === 'reg-t' && i % 5 === 0;
    return {
      instrument: `S${i}`,
      quantity: String((short ? -1 : 1) * (10 + ((i * 17) % 90))),
      avgCost: price,
      price,
      ...(model === 'tiered' ? { leverage: '5', assetClass: 'crypto' } : {}),
    };
  });
  return parseEvaluationInput({
    account: { id: `W-${model}`, model, cash: model === 'reg-t' ? '0' : '400000', asOf: '2026-01-05' },
    positions,
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

export function runWhatIfBench(): void {
  const calls = Number.parseInt(process.env.BENCH_WHATIF_CALLS ?? '2000', 10);
  console.log(
    `\npre-trade what-if: whatIf() in process, ${POSITIONS}-position book, one order a call, ${calls} calls a model (summary path; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores: wall time includes waiting for a core, CPU time does not)`,
  );
  for (const model of ['reg-t', 'tiered'] as const) {
    const input = book(model);
    const orders = Array.from({ length: 64 }, (_, k) =>
      parseOrThrow(proposedOrdersSchema, [
        k % 4 === 3
          ? { instrument: `NEW${k}`, side: 'BUY', quantity: '10', price: '50' }
          : {
              instrument: `S${(k * 7) % POSITIONS}`,
              side: k % 2 === 0 ? 'BUY' : 'SELL',
              quantity: String(1 + (k % 5)),
              ...(k % 3 === 0 ? { price: '100' } : {}),
            },
      ]),
    );
    for (let k = 0; k < 200; k++) whatIf(input, orders[k % orders.length]!); // warm-up (JIT, caches)
    const times: number[] = [];
    const cpu: number[] = [];
    let accepted = 0;
    for (let k = 0; k < calls; k++) {
      const cpuStart = process.cpuUsage();
      const start = process.hrtime.bigint();
      // Read as a broker would: every figure before and after, as decimal strings.
      const r = whatIfToJson(whatIf(input, orders[k % orders.length]!));
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
      const used = process.cpuUsage(cpuStart);
      cpu.push((used.user + used.system) / 1e3);
      if (r.accepted) accepted += 1;
    }
    times.sort((a, b) => a - b);
    cpu.sort((a, b) => a - b);
    const p99 = percentile(times, 0.99);
    console.log(
      `  ${model.padEnd(7)} wall p50 ${percentile(times, 0.5).toFixed(2)} ms  p99 ${p99.toFixed(2)} ms  max ${times[times.length - 1]!.toFixed(2)} ms;  CPU p50 ${percentile(cpu, 0.5).toFixed(2)} ms  p99 ${percentile(cpu, 0.99).toFixed(2)} ms  (${accepted} of ${calls} accepted)`,
    );
    console.log(
      `  ratio p99 / goal, ${model}: ${(p99 / GOAL_MS).toFixed(2)} wall, ${(percentile(cpu, 0.99) / GOAL_MS).toFixed(2)} CPU (goal < 1: p99 under ${GOAL_MS} ms)`,
    );
  }
}
