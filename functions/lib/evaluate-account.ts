import { insideStoredBands, planBandWrite } from '../../shared/bands/band-rows.ts';
import { Decimal } from '../../shared/decimal.ts';
import { assessAccount } from '../../shared/pipeline/assess.ts';
import { valuationPrice } from '../../shared/pipeline/records.ts';
import { BandConflict, type BandRepository } from './bands-repository.ts';
import type { PipelineConfig } from '../../shared/pipeline/config.ts';
import type { Publisher } from './event-publisher.ts';
import type { DeadLetter } from './queues.ts';
import { VersionConflict, type RiskRepository } from './risk-repository.ts';
import type { Telemetry } from './telemetry.ts';

export type RiskStore = Pick<
  RiskRepository,
  'getAccount' | 'getPositions' | 'getPrices' | 'getRiskState' | 'saveRiskState' | 'clearOutbox'
>;

export type BandStore = Pick<BandRepository, 'getBandSummary' | 'writeBands' | 'shards'>;

export interface EvaluatorDeps {
  store: RiskStore;
  bands: BandStore;
  publisher: Publisher;
  deadLetter: DeadLetter;
  config: PipelineConfig;
  telemetry: Telemetry;
  now?: () => Date;
}

export type Outcome = 'written' | 'unchanged' | 'no-account';

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
export async function evaluateAccount(accountId: string, deps: EvaluatorDeps): Promise<Outcome> {
  const { store, telemetry } = deps;
  let wrote = false;
  let rewriteAllBands = false;
  for (let attempt = 1; attempt <= MAX_CONFLICTS; attempt++) {
    const [account, positions, previous, bandSummary] = await Promise.all([
      store.getAccount(accountId),
      store.getPositions(accountId),
      store.getRiskState(accountId),
      deps.bands.getBandSummary(accountId),
    ]);
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
    const prices = await store.getPrices(positions.map((p) => p.instrument));
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
      rewriteAllBands,
    );
    if (plan) {
      try {
        await deps.bands.writeBands(plan);
      } catch (e) {
        if (!(e instanceof BandConflict)) throw e;
        telemetry.count('BandConflicts');
        rewriteAllBands ||= e.partial; // our rows may have interleaved with theirs
        continue;
      }
      telemetry.count('BandWrites');
      if (plan.summary.always === null) {
        const now = await store.getPrices(Object.keys(plan.summary.rows));
        const prices = new Map(
          [...now].map(([instrument, item]) => [instrument, new Decimal(valuationPrice(item))]),
        );
        if (!insideStoredBands(plan.summary, prices)) {
          telemetry.count('BandRechecks');
          continue;
        }
      }
    }
    return wrote ? 'written' : 'unchanged';
  }
  throw new Error(`${accountId}: gave up after ${MAX_CONFLICTS} concurrent-write or band conflicts`);
}
