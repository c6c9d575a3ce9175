import { Decimal } from '../decimal.ts';
import type { RiskLevel } from './levels.ts';
import type { RiskState } from './tracker.ts';

/** The tracker state as stored (decimal strings), and back. */
export interface RiskStateJson {
  accountId: string;
  level: RiskLevel | null;
  ratio: string | null;
  lastAt: string | null;
  incident: { id: string; openedAt: string; worstLevel: RiskLevel } | null;
  marginCall: { id: string; since: string; worstRatio: string | null } | null;
  stats: {
    triggered: number;
    resolved: number;
    worstRatio: string | null;
    worstLevel: RiskLevel | null;
    ratioSumInCall: string;
    observationsInCall: number;
    msInCall: number;
  };
}

const str = (d: Decimal | null) => (d === null ? null : d.toString());
const dec = (s: string | null) => (s === null ? null : new Decimal(s));

export function riskStateToJson(s: RiskState): RiskStateJson {
  return {
    ...s,
    ratio: str(s.ratio),
    marginCall: s.marginCall && { ...s.marginCall, worstRatio: str(s.marginCall.worstRatio) },
    stats: {
      ...s.stats,
      worstRatio: str(s.stats.worstRatio),
      ratioSumInCall: s.stats.ratioSumInCall.toString(),
    },
  };
}

export function riskStateFromJson(j: RiskStateJson): RiskState {
  return {
    ...j,
    ratio: dec(j.ratio),
    marginCall: j.marginCall && { ...j.marginCall, worstRatio: dec(j.marginCall.worstRatio) },
    stats: {
      ...j.stats,
      worstRatio: dec(j.stats.worstRatio),
      ratioSumInCall: new Decimal(j.stats.ratioSumInCall),
    },
  };
}
