import { Decimal, toEdge, toEdgeOrNull } from '../decimal.ts';
import { InputError } from '../errors.ts';
import { eventId, SCHEMA_VERSION, type DomainEvent } from '../events/schemas.ts';
import { bandBasis } from '../bands/band-rows.ts';
import { guardBands } from '../bands/guard-bands.ts';
import type { BandSet } from '../bands/price-bands.ts';
import { buildBook, evaluateBook } from '../margin/evaluate.ts';
import { ParsedInputCache } from '../margin/parse-cache.ts';
import type { Account } from '../schemas/account.ts';
import type { Evaluation } from '../margin/evaluation.ts';
import { evaluationToJson } from '../margin/serialize.ts';
import { isSessionOpen, isStale } from '../market-hours.ts';
import { thresholdsFor } from '../risk/account-thresholds.ts';
import { allows, restrictionFor, type Restriction } from '../risk/restrictions.ts';
import { initialRiskState, track, type RiskEvent } from '../risk/tracker.ts';
import { riskStateFromJson, riskStateToJson } from '../risk/tracker-json.ts';
import type { PipelineConfig } from './config.ts';
import {
  heldPositions,
  sessionOf,
  toEngineInput,
  type AccountItem,
  type PositionItem,
  type PriceItem,
} from './records.ts';
import {
  historyEntryKey,
  type DataProblem,
  type HistoryItem,
  type HistoryReason,
  type StoredRiskState,
} from './stored-state.ts';

export interface AssessmentInput {
  account: AccountItem;
  positions: readonly PositionItem[];
  prices: ReadonlyMap<string, PriceItem>;
  previous: StoredRiskState | null;
  now: Date;
  config: PipelineConfig;
}

export interface Assessment {
  /** False when nothing material changed since the last write: skip the write (and the cost). */
  write: boolean;
  next: StoredRiskState;
  history: HistoryItem | null;
  /** New events, also appended to `next.outbox`. */
  events: DomainEvent[];
  /** Set when the stored data itself is invalid: the caller dead-letters it. */
  invalid: InputError | null;
  /** Guard bands around the evaluated prices for the state tracked now (see shared/bands). */
  bands: BandSet;
  /**
   * Instruments whose ticks can change an unbanded account's outcome (its always-evaluate rows): every
   * held one (non-flat positions), or with missing prices only the missing ones.
   */
  held: string[];
  /** What the bands are proven for: the book as stored and the tracked state (see bandBasis). */
  bandBasis: string;
}

function sameProblem(a: DataProblem | null, b: DataProblem | null): boolean {
  return a?.kind === b?.kind && (a?.instruments ?? []).join() === (b?.instruments ?? []).join();
}

function problemEvent(
  accountId: string,
  at: string,
  problem: DataProblem | null,
  previous: DataProblem | null,
): DomainEvent {
  const kind = problem?.kind ?? 'resolved';
  return {
    detailType: 'RiskDataProblem',
    detail: {
      schemaVersion: SCHEMA_VERSION,
      eventId: eventId('RiskDataProblem', accountId, `${kind}:${at}`),
      accountId,
      occurredAt: at,
      kind,
      instruments: problem?.instruments ?? previous?.instruments ?? [],
      message: problem?.message ?? `resolved: ${previous?.message ?? ''}`,
    },
  };
}

function riskEventToDomain(e: RiskEvent, ev: Evaluation, stale: string[]): DomainEvent {
  const base = { schemaVersion: SCHEMA_VERSION, accountId: e.accountId, occurredAt: e.at } as const;
  switch (e.type) {
    case 'RiskLevelChanged':
      return {
        detailType: e.type,
        detail: {
          ...base,
          eventId: eventId(e.type, e.accountId, `${e.at}:${e.to}`),
          from: e.from,
          to: e.to,
          marginRatio: toEdgeOrNull(e.ratio),
          equity: toEdge(ev.equity),
          maintenanceRequirement: toEdge(ev.maintenanceRequirement),
          excessLiquidity: toEdge(ev.excessLiquidity),
          callMove: toEdgeOrNull(ev.distanceToCall.call.move),
          zeroEquityMove: toEdgeOrNull(ev.distanceToCall.zeroEquity.move),
          incidentId: e.incidentId,
          staleInstruments: stale,
        },
      };
    case 'MarginCallTriggered':
      return {
        detailType: e.type,
        detail: {
          ...base,
          eventId: eventId(e.type, e.accountId, e.incidentId),
          incidentId: e.incidentId,
          marginRatio: toEdgeOrNull(e.ratio),
          callRatio: toEdge(e.callRatio),
          equity: toEdge(ev.equity),
          maintenanceRequirement: toEdge(ev.maintenanceRequirement),
          shortfall: toEdge(Decimal.max(0, ev.maintenanceRequirement.times(e.callRatio).minus(ev.equity))),
        },
      };
    case 'MarginCallResolved':
      return {
        detailType: e.type,
        detail: {
          ...base,
          eventId: eventId(e.type, e.accountId, e.incidentId),
          incidentId: e.incidentId,
          marginRatio: toEdgeOrNull(e.ratio),
          durationMs: e.durationMs,
          worstRatio: toEdgeOrNull(e.worstRatio),
        },
      };
  }
}

function restrictionEvent(
  accountId: string,
  at: string,
  from: Restriction,
  to: Restriction,
  tracker: ReturnType<typeof initialRiskState>,
  ratio: Decimal | null | undefined,
): DomainEvent {
  return {
    detailType: 'TradingRestrictionChanged',
    detail: {
      schemaVersion: SCHEMA_VERSION,
      eventId: eventId('TradingRestrictionChanged', accountId, `${at}:${to}`),
      accountId,
      occurredAt: at,
      from,
      to,
      level: tracker.level,
      inMarginCall: tracker.marginCall !== null,
      marginRatio: ratio == null ? null : toEdge(ratio),
      incidentId: tracker.incident?.id ?? null,
      allows: allows(to),
    },
  };
}

/** Bands with the stale instruments pinned (an always-evaluate row each) instead of banded. */
function pinStale(set: BandSet, stale: readonly string[]): BandSet {
  if (stale.length === 0 || set.kind === 'always') return set;
  return { kind: 'banded', bands: set.bands.filter((b) => !stale.includes(b.instrument)), pinned: stale };
}

/** Stored accounts and positions are validated once per version, not on every price tick. */
const parsedInputs = new ParsedInputCache();

/**
 * One account, one evaluation: prices joined to positions, the engine, the risk tracker, and the decision
 * of what to store and publish. Pure; the handler does the reading and writing.
 */
export function assessAccount(input: AssessmentInput): Assessment {
  const { account, positions, prices, previous, now, config } = input;
  const accountId = account.accountId;
  const at = now.toISOString();
  const tracker = previous ? riskStateFromJson(previous.tracker) : initialRiskState(accountId);
  const held = heldPositions(positions);
  const missing = held
    .filter((p) => !prices.has(p.instrument))
    .map((p) => p.instrument)
    .sort();
  // Stale: older than staleAfter in its market's own time (closed hours do not age a price; see
  // shared/market-hours.ts staleSince). A price younger than staleAfter is fresh without calendar work.
  const stale = held
    .filter((p) => {
      const price = prices.get(p.instrument);
      return (
        price !== undefined &&
        isStale(Date.parse(price.priceTime), now, sessionOf(price, p), config.staleAfterMs)
      );
    })
    .map((p) => p.instrument)
    .sort();

  let evaluation: Evaluation | null = null;
  let parsedAccount: Account | null = null;
  let fullEvaluation: (() => Evaluation) | null = null;
  let bandsFor: ((tracked: Parameters<typeof guardBands>[2]) => BandSet) | null = null;
  let problem: DataProblem | null = null;
  let invalid: InputError | null = null;
  if (missing.length > 0) {
    problem = {
      kind: 'missing-prices',
      instruments: missing,
      message: `no price for ${missing.join(', ')}: margin cannot be computed`,
    };
  } else {
    try {
      const validated = parsedInputs.parse(toEngineInput(account, held, prices));
      const { model, book } = buildBook(validated, { asOf: at.slice(0, 10) });
      // Most evaluations change nothing and are not stored: the summary decides; the full evaluation
      // (per-position call prices) is computed only for a state that will be written.
      evaluation = evaluateBook(model, book, { positionPrices: false });
      fullEvaluation = () => evaluateBook(model, book);
      bandsFor = (tracked) => guardBands(model, book, tracked);
      parsedAccount = validated.account;
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      invalid = e;
      problem = { kind: 'invalid-data', instruments: [], message: e.message };
    }
    if (evaluation && stale.length > 0) {
      problem = {
        kind: 'stale-prices',
        instruments: stale,
        message: `prices older than ${config.staleAfterMs / 1000}s of market time for ${stale.join(', ')}`,
      };
    }
  }

  const events: DomainEvent[] = [];
  const reasons: HistoryReason[] = [];
  const previousProblem = previous?.dataProblem ?? null;
  if (!sameProblem(problem, previousProblem) && (problem !== null || previousProblem !== null)) {
    events.push(problemEvent(accountId, at, problem, previousProblem));
    reasons.push('data-problem');
  }

  let nextTracker = tracker;
  if (evaluation && parsedAccount) {
    const out = track(
      tracker,
      {
        at,
        ratio: evaluation.marginRatio,
        equity: evaluation.equity,
        inMarginCall: evaluation.inMarginCall,
        callRatio: evaluation.callRatio,
      },
      thresholdsFor(parsedAccount, evaluation.equity),
    );
    nextTracker = out.state;
    for (const e of out.events) {
      events.push(riskEventToDomain(e, evaluation, stale));
      if (e.type === 'RiskLevelChanged') reasons.push('level-change');
      else reasons.push('margin-call');
    }
  }

  // The restriction follows the tracked level and call; a stored state without one had the policy's.
  const policy = config.restrictionPolicy;
  const previousRestriction: Restriction = previous
    ? (previous.restriction ??
      restrictionFor(policy, previous.level, riskStateFromJson(previous.tracker).marginCall !== null))
    : 'none';
  const restriction = restrictionFor(policy, nextTracker.level, nextTracker.marginCall !== null);
  if (restriction !== previousRestriction) {
    events.push(
      restrictionEvent(accountId, at, previousRestriction, restriction, nextTracker, evaluation?.marginRatio),
    );
    reasons.push('restriction-change');
  }

  const ratio = evaluation?.marginRatio ?? null;
  const previousRatio = previous?.marginRatio == null ? null : new Decimal(previous.marginRatio);
  if (previous === null) reasons.unshift('first');
  else if (evaluation) {
    if (
      (ratio === null) !== (previousRatio === null) ||
      (ratio && previousRatio && ratio.minus(previousRatio).abs().greaterThanOrEqualTo(config.ratioDelta))
    ) {
      reasons.push('ratio-move');
    }
    // The heartbeat only refreshes a quiet account's stored figures: while every market the account holds
    // is closed its prices cannot move, so it comes at most once in closedHeartbeatMs (a day by default).
    const quiet = now.getTime() - Date.parse(previous.evaluatedAt);
    if (
      quiet >= config.heartbeatMs &&
      (quiet >= config.closedHeartbeatMs ||
        held.some((p) => {
          const item = prices.get(p.instrument);
          return item === undefined || isSessionOpen(now, sessionOf(item, p));
        }))
    )
      reasons.push('heartbeat');
  }
  const write = reasons.length > 0;
  const json = write && fullEvaluation ? evaluationToJson(fullEvaluation()) : null;
  const next: StoredRiskState = {
    accountId,
    version: (previous?.version ?? 0) + (write ? 1 : 0),
    evaluatedAt: write ? at : previous!.evaluatedAt,
    level: nextTracker.level,
    marginRatio: json ? json.marginRatio : (previous?.marginRatio ?? null),
    equity: json ? json.equity : (previous?.equity ?? null),
    maintenanceRequirement: json ? json.maintenanceRequirement : (previous?.maintenanceRequirement ?? null),
    inMarginCall: evaluation ? evaluation.inMarginCall : (previous?.inMarginCall ?? false),
    staleInstruments: stale,
    dataProblem: problem,
    evaluation: json ?? previous?.evaluation ?? null,
    tracker: riskStateToJson(nextTracker),
    restriction,
    outbox: [...(previous?.outbox ?? []), ...events],
  };
  const history: HistoryItem | null = write
    ? {
        accountId,
        entryKey: historyEntryKey(at, next.version),
        at,
        level: next.level,
        marginRatio: next.marginRatio,
        equity: next.equity,
        maintenanceRequirement: next.maintenanceRequirement,
        inMarginCall: next.inMarginCall,
        reasons,
        expiresAt: Math.floor(now.getTime() / 1000) + config.historyTtlDays * 86_400,
      }
    : null;
  // Bands only for a clean evaluation: a data problem keeps the account on the always-evaluate path.
  const tracked = { level: nextTracker.level, inMarginCall: nextTracker.marginCall !== null };
  // Stale prices among fresh ones: the account is banded on the fresh ones and pinned on the stale ones.
  // While no stale price moves (only its own tick can move it, and that tick finds the pinned row) the
  // stale prices are constants of the book, so the bands' proof holds for the fresh ones as it stands; the
  // staleness itself changes only with that tick or with time (the watch sweep evaluates the holders of a
  // price that turns stale). Other data problems stay on the always-evaluate path.
  const bands: BandSet =
    problem !== null && problem.kind !== 'stale-prices'
      ? { kind: 'always', reason: problem.kind }
      : bandsFor && tracked.level !== null
        ? pinStale(bandsFor({ ...tracked, level: tracked.level }), stale)
        : { kind: 'always', reason: problem?.kind ?? 'not evaluated' };
  const basis = bandBasis(account, positions, tracked);
  return {
    write,
    next,
    history,
    events,
    invalid,
    bands,
    // Missing prices: no evaluation whatever the other prices do, so only the missing instruments' first
    // price (its tick finds the row) can change the outcome; every other problem, every held instrument.
    held: problem?.kind === 'missing-prices' ? [...problem.instruments] : held.map((p) => p.instrument),
    bandBasis: basis,
  };
}
