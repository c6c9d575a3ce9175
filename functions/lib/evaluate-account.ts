import {
  insideStoredBands,
  planBandWrite,
  ticksSeen,
  type BandSummary,
} from '../../shared/bands/band-rows.ts';
import type { BandItemKey } from '../../shared/bands/band-keys.ts';
import { Decimal } from '../../shared/decimal.ts';
import { assessAccount } from '../../shared/pipeline/assess.ts';
import { valuationPrice } from '../../shared/pipeline/records.ts';
import { BandConflict, type BandRepository } from './bands-repository.ts';
import type { PipelineConfig } from '../../shared/pipeline/config.ts';
import type { Publisher } from './event-publisher.ts';
import type { DeadLetter } from './queues.ts';
import { RetryLaterError } from '../../shared/errors.ts';
import { VersionConflict, type RiskRepository } from './risk-repository.ts';
import type { Telemetry } from './telemetry.ts';

export type RiskStore = Pick<
  RiskRepository,
  'getAccount' | 'getPositions' | 'getPrices' | 'getRiskState' | 'saveRiskState' | 'clearOutbox'
>;

export type BandStore = Pick<BandRepository, 'getBandSummary' | 'writeBands' | 'shards'>;

/**
 * How prices are read: `fresh` bypasses any cache (the evaluator's re-check after a band write);
 * `eventual` accepts an eventually consistent read (half the read units), for a cache that is already
 * allowed to be a message's run old — the strongly consistent re-check after the band write is what
 * catches a tick the first read missed, however it missed it.
 */
export interface PriceReadOptions {
  fresh?: boolean;
  eventual?: boolean;
}

export interface EvaluatorDeps {
  store: RiskStore;
  bands: BandStore;
  publisher: Publisher;
  deadLetter: DeadLetter;
  config: PipelineConfig;
  telemetry: Telemetry;
  now?: () => Date;
}

export type Outcome = 'written' | 'unchanged' | 'no-account' | 'already-seen';

export interface EvaluateOptions {
  /**
   * The ticks that found the account (instrument → priceTime): if its bands were since proven against
   * prices at least this new, there is nothing left to find and the evaluation is skipped (one read).
   */
  ticks?: Readonly<Record<string, string>>;
  /**
   * Leave the re-check after a band write to the caller, which reads prices once for a whole batch
   * (evaluate-batch.ts): one strongly consistent read of a hot instrument per batch, not per account.
   */
  deferRecheck?: (summary: BandSummary) => void;
  /** Read prices past any cache from the start (evaluating again after a failed re-check). */
  fresh?: boolean;
  /**
   * Hand the band write to the caller instead of doing it here (with `deferRecheck`): a batch writes every
   * account's state and publishes every level change first, then writes the bands (evaluate-batch.ts), so
   * a crash's level changes are not queued behind its band rewrites. The write, when run, retries a lost
   * race by evaluating again. Safe for the same reason as the re-check: the bands are checked against
   * prices read after they are written, however late that is.
   */
  deferBandWrite?: (write: () => Promise<void>) => void;
  /** Index items a lost race put ahead of its summary (internal: the retry of a deferred write). */
  orphans?: readonly BandItemKey[];
}

const MAX_CONFLICTS = 5;

/**
 * The evaluator core shared by the stream, sweep and work-queue Lambdas: load → engine → conditional write
 * (optimistic lock on the state version; state and history in one transaction) → publish the outbox →
 * clear it → guard bands. A conflicting concurrent write makes it start over from a fresh read.
 *
 * Bands are written after the state they protect, then the prices are read again: a tick written between
 * our price read and the band write may have queried the old rows, so a price that has left its new band
 * means evaluating again. A tick written after that read queries the new rows itself (consistent reads).
 */
export async function evaluateAccount(
  accountId: string,
  deps: EvaluatorDeps,
  options: EvaluateOptions = {},
): Promise<Outcome> {
  const { store, telemetry } = deps;
  let wrote = false;
  let orphans: readonly BandItemKey[] = options.orphans ?? [];
  let fresh = options.fresh ?? false;
  let firstSummary: Promise<Awaited<ReturnType<BandStore['getBandSummary']>>> | undefined;
  if (options.ticks && Object.keys(options.ticks).length > 0) {
    firstSummary = deps.bands.getBandSummary(accountId);
    if (ticksSeen(await firstSummary, options.ticks)) {
      telemetry.count('EvaluationsAlreadySeen');
      return 'already-seen';
    }
  }
  for (let attempt = 1; attempt <= MAX_CONFLICTS; attempt++) {
    const [account, positions, previous, bandSummary] = await Promise.all([
      store.getAccount(accountId),
      store.getPositions(accountId),
      store.getRiskState(accountId),
      firstSummary ?? deps.bands.getBandSummary(accountId),
    ]);
    firstSummary = undefined;
    if (!account) {
      // A deleted account leaves no band behind.
      const clear =
        bandSummary &&
        planBandWrite(accountId, bandSummary, { kind: 'banded', bands: [] }, [], deps.bands.shards, '');
      if (clear) await deps.bands.writeBands(clear);
      if (positions.length > 0)
        await deps.deadLetter.send('positions-without-account', {
          accountId,
          instruments: positions.map((p) => p.instrument),
        });
      telemetry.count('AccountMissing');
      return 'no-account';
    }
    const prices = await store.getPrices(
      positions.map((p) => p.instrument),
      fresh ? { fresh: true } : undefined,
    );
    const assessment = assessAccount({
      account,
      positions,
      prices,
      previous,
      now: (deps.now ?? (() => new Date()))(),
      config: deps.config,
    });
    telemetry.count('Evaluations');
    let outbox = previous?.outbox ?? [];
    let version = previous?.version ?? 0;
    if (assessment.write) {
      try {
        await store.saveRiskState(assessment.next, previous?.version ?? 0, assessment.history);
      } catch (e) {
        if (e instanceof VersionConflict) {
          telemetry.count('VersionConflicts');
          continue;
        }
        throw e;
      }
      telemetry.count('StateWrites');
      wrote = true;
      // Bad stored data goes to the dead-letter queue once, when the problem is first recorded.
      if (assessment.invalid)
        await deps.deadLetter.send('invalid-account-data', { accountId }, assessment.invalid.issues);
      outbox = assessment.next.outbox;
      version = assessment.next.version;
    }
    if (outbox.length > 0) {
      await deps.publisher.publish(outbox);
      telemetry.count('EventsPublished', outbox.length);
      await store.clearOutbox(accountId, version, outbox.length);
    }
    const plan = planBandWrite(
      accountId,
      bandSummary,
      assessment.bands,
      assessment.held,
      deps.bands.shards,
      assessment.bandBasis,
    );
    if (plan) {
      plan.summary.seen = Object.fromEntries(
        [...prices].map(([instrument, item]) => [instrument, item.priceTime] as const).sort(),
      );
      if (options.deferBandWrite && options.deferRecheck) {
        const { deferBandWrite: _, orphans: __, ...retry } = options;
        const pending = orphans;
        options.deferBandWrite(async () => {
          try {
            await deps.bands.writeBands(plan, pending);
          } catch (e) {
            if (!(e instanceof BandConflict)) throw e;
            telemetry.count('BandConflicts');
            await evaluateAccount(accountId, deps, { ...retry, orphans: [...pending, ...e.written] });
            return;
          }
          telemetry.count('BandWrites');
          if (plan.summary.always === null) retry.deferRecheck!(plan.summary);
        });
        return wrote ? 'written' : 'unchanged';
      }
      try {
        await deps.bands.writeBands(plan, orphans);
      } catch (e) {
        if (!(e instanceof BandConflict)) throw e;
        telemetry.count('BandConflicts');
        // The winner's items are all stored (items go in before a summary); drop those we put ahead.
        orphans = [...orphans, ...e.written];
        continue;
      }
      orphans = [];
      telemetry.count('BandWrites');
      if (plan.summary.always === null && options.deferRecheck) options.deferRecheck(plan.summary);
      else if (plan.summary.always === null) {
        // Past any cache, strongly consistent: the tick that raced this write must be seen here.
        const now = await store.getPrices(Object.keys(plan.summary.rows), { fresh: true });
        const prices = new Map(
          [...now].map(([instrument, item]) => [instrument, new Decimal(valuationPrice(item))]),
        );
        const times = new Map([...now].map(([instrument, item]) => [instrument, item.priceTime]));
        if (!insideStoredBands(plan.summary, prices, times)) {
          telemetry.count('BandRechecks');
          fresh = true; // a cached price is what the re-check just proved stale
          continue;
        }
      }
    }
    return wrote ? 'written' : 'unchanged';
  }
  throw new RetryLaterError(
    'evaluation-contended',
    `${accountId}: gave up after ${MAX_CONFLICTS} concurrent-write or band conflicts`,
  );
}
