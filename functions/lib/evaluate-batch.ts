import { insideStoredBands, type BandSummary } from '../../shared/bands/band-rows.ts';
import { Decimal } from '../../shared/decimal.ts';
import { valuationPrice } from '../../shared/pipeline/records.ts';
import { forEachLimit } from './concurrency.ts';
import { evaluateAccount, type EvaluatorDeps, type Outcome } from './evaluate-account.ts';

export interface BatchResult {
  outcomes: Map<string, Outcome>;
  failures: { item: string; error: unknown }[];
}

/**
 * Evaluates a batch of accounts with one re-check for all of them. Every account's state is written and
 * its events published first; then every account's bands are written (a crash's level changes go out
 * before its band rewrites, which are what a crash queues on); then the prices of every instrument whose
 * bands were written are read once, strongly consistently and
 * past any cache; an account with a price outside its new band is evaluated again (with its own re-check).
 * The guarantee is the single evaluation's (docs/guard-bands.md): every band was written before that read,
 * so a tick that raced any of them is seen there. A crash wave reads a hot instrument's price item twice
 * per batch instead of twice per account (a single item serves at most 3,000 read units a second).
 */
export async function evaluateBatch(
  accountIds: readonly string[],
  deps: EvaluatorDeps,
  options: { concurrency: number; ticks?: Readonly<Record<string, string>> },
): Promise<BatchResult> {
  const outcomes = new Map<string, Outcome>();
  const written: BandSummary[] = [];
  const bandWrites: { id: string; write: () => Promise<void> }[] = [];
  // States and events first, for every account; then the band writes.
  const failures = await forEachLimit(accountIds, options.concurrency, async (id) => {
    outcomes.set(
      id,
      await evaluateAccount(id, deps, {
        ...(options.ticks ? { ticks: options.ticks } : {}),
        deferRecheck: (summary) => written.push(summary),
        deferBandWrite: (write) => bandWrites.push({ id, write }),
      }),
    );
  });
  failures.push(
    ...(await forEachLimit(bandWrites, options.concurrency, ({ write }) => write())).map((f) => ({
      item: f.item.id,
      error: f.error,
    })),
  );
  if (written.length === 0) return { outcomes, failures };
  const instruments = [...new Set(written.flatMap((s) => Object.keys(s.rows)))].sort();
  const items = await deps.store.getPrices(instruments, { fresh: true });
  const prices = new Map([...items].map(([i, item]) => [i, new Decimal(valuationPrice(item))]));
  const times = new Map([...items].map(([i, item]) => [i, item.priceTime]));
  const again = written.filter((s) => !insideStoredBands(s, prices, times)).map((s) => s.accountId);
  deps.telemetry.count('BandRechecks', again.length);
  failures.push(
    ...(await forEachLimit(again, options.concurrency, async (id) => {
      outcomes.set(id, await evaluateAccount(id, deps, { fresh: true }));
    })),
  );
  return { outcomes, failures };
}
