import { assessAccount } from '../../shared/pipeline/assess.ts';
import type { PipelineConfig } from '../../shared/pipeline/config.ts';
import type { Publisher } from './event-publisher.ts';
import type { DeadLetter } from './queues.ts';
import { VersionConflict, type RiskRepository } from './risk-repository.ts';
import type { Telemetry } from './telemetry.ts';

export type RiskStore = Pick<
  RiskRepository,
  'getAccount' | 'getPositions' | 'getPrices' | 'getRiskState' | 'saveRiskState' | 'clearOutbox'
>;

export interface EvaluatorDeps {
  store: RiskStore;
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
 * clear it. A conflicting concurrent write makes it start over from a fresh read.
 */
export async function evaluateAccount(accountId: string, deps: EvaluatorDeps): Promise<Outcome> {
  const { store, telemetry } = deps;
  for (let attempt = 1; attempt <= MAX_CONFLICTS; attempt++) {
    const [account, positions, previous] = await Promise.all([
      store.getAccount(accountId),
      store.getPositions(accountId),
      store.getRiskState(accountId),
    ]);
    if (!account) {
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
    return assessment.write ? 'written' : 'unchanged';
  }
  throw new Error(`${accountId}: gave up after ${MAX_CONFLICTS} concurrent-write conflicts`);
}
