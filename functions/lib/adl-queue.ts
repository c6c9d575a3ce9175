import { Decimal, toEdge } from '../../shared/decimal.ts';
import { adlRanking, type AdlCandidate } from '../../shared/deleverage/adl.ts';
import { valuationPrice } from '../../shared/pipeline/records.ts';
import type { RiskRepository } from './risk-repository.ts';

/** Holders read per ranking: on demand over the holdings index (a large venue would keep it warm). */
export const ADL_HOLDER_LIMIT = 5_000;

export class TooManyHolders extends Error {}

export interface AdlQueue {
  instrument: string;
  markPrice: string;
  long: {
    accountId: string;
    quantile: number;
    score: string;
    pnlFraction: string;
    effectiveLeverage: string;
  }[];
  short: AdlQueue['long'];
}

/** An instrument's auto-deleveraging queue at its mark; null when it has no price. */
export async function adlQueue(
  repo: Pick<RiskRepository, 'getPrices' | 'holders' | 'getPositions' | 'getRiskState'>,
  instrument: string,
): Promise<AdlQueue | null> {
  const price = (await repo.getPrices([instrument])).get(instrument);
  if (!price) return null;
  const mark = new Decimal(valuationPrice(price));
  const candidates: AdlCandidate[] = [];
  let holders = 0;
  for await (const page of repo.holders(instrument)) {
    for (const id of page) {
      if (++holders > ADL_HOLDER_LIMIT)
        throw new TooManyHolders(`more than ${ADL_HOLDER_LIMIT} holders of ${instrument}`);
      const [positions, state] = await Promise.all([repo.getPositions(id), repo.getRiskState(id)]);
      const p = positions.find((x) => x.instrument === instrument);
      if (!p || !state?.equity) continue;
      candidates.push({
        accountId: id,
        quantity: new Decimal(String(p.quantity)),
        entryPrice: new Decimal(String(p.avgCost ?? valuationPrice(price))),
        markPrice: mark,
        multiplier: new Decimal(String(p.multiplier ?? '1')),
        equity: new Decimal(state.equity),
      });
    }
  }
  const ranks = adlRanking(candidates).map((r) => ({
    side: r.side,
    accountId: r.accountId,
    quantile: r.quantile,
    score: toEdge(r.score),
    pnlFraction: toEdge(r.pnlFraction),
    effectiveLeverage: toEdge(r.effectiveLeverage),
  }));
  const strip = (side: 'long' | 'short') =>
    ranks.filter((r) => r.side === side).map(({ side: _s, ...r }) => r);
  return { instrument, markPrice: mark.toFixed(), long: strip('long'), short: strip('short') };
}
