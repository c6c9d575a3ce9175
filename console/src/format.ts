/**
 * Display formatting. Values arrive as exact decimal strings; money is grouped and rounded by string
 * arithmetic so nothing shown passes through a float. (Charts plot floats: that is drawing, not money.)
 */

/** Rounds a plain decimal string half-up to `places` and groups thousands. */
export function money(value: string | null | undefined, places = 2): string {
  if (value === null || value === undefined) return '—';
  const negative = value.startsWith('-');
  const [intPart = '0', frac = ''] = (negative ? value.slice(1) : value).split('.');
  let digits = (intPart + frac.padEnd(places, '0').slice(0, places)).replace(/^0+(?=\d)/, '');
  if ((frac[places] ?? '0') >= '5') digits = increment(digits);
  const whole = digits.length > places ? digits.slice(0, digits.length - places) : '0';
  const cents = digits.slice(-places).padStart(places, '0');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const shown = places > 0 ? `${grouped}.${cents}` : grouped;
  return negative && /[1-9]/.test(digits) ? `−${shown}` : shown;
}

function increment(digits: string): string {
  const chars = digits.split('');
  for (let i = chars.length - 1; i >= 0; i--) {
    if (chars[i] === '9') chars[i] = '0';
    else {
      chars[i] = String(Number(chars[i]) + 1);
      return chars.join('');
    }
  }
  return `1${chars.join('')}`;
}

/** A margin ratio: 3 decimals; null means no requirement (nothing held), never "infinitely safe". */
export function ratio(value: string | null | undefined): string {
  if (value === undefined) return '—';
  if (value === null) return 'no requirement';
  return money(value, 3).replace(/,/g, '');
}

/** A uniform price move (fraction) as a percentage: "−12.3 %"; null: no move reaches it. */
export function move(value: string | null | undefined): string {
  if (value === null || value === undefined) return 'unreachable';
  if (/^-?0(\.0*)?$/.test(value)) return 'now';
  const negative = value.startsWith('-');
  const abs = negative ? value.slice(1) : value;
  const [i = '0', f = ''] = abs.split('.');
  const pct = `${(i + f.padEnd(2, '0').slice(0, 2)).replace(/^0+(?=\d)/, '')}.${f.slice(2).padEnd(1, '0')}`;
  return `${negative ? '−' : '+'}${money(pct, 1)} %`;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
}

export function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = minutes / 60;
  if (hours < 48) return `${hours.toFixed(1)} h`;
  return `${(hours / 24).toFixed(1)} d`;
}

export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

export const LEVEL_COLOURS: Record<string, string> = {
  SAFE: '#1a7f37',
  WARNING: '#b58100',
  CRITICAL: '#d1550b',
  LIQUIDATION: '#c62828',
  UNRATED: '#6e7781',
};

export function levelBadge(level: string | null | undefined): string {
  const l = level ?? 'UNRATED';
  return `<span class="level level-${escapeHtml(l)}">${escapeHtml(l)}</span>`;
}

/** Badges that say what a level alone does not: a margin call, negative equity (bankrupt), a hold, bad data. */
export function stateBadges(r: {
  inMarginCall?: boolean;
  equity?: string | null;
  hold?: { reason: string } | null;
  dataProblem?: { kind: string } | string | null;
}): string {
  const problem = typeof r.dataProblem === 'string' ? r.dataProblem : r.dataProblem?.kind;
  return [
    r.inMarginCall ? '<span class="badge call">margin call</span>' : '',
    r.equity?.startsWith('-')
      ? '<span class="badge call" title="equity below zero: losses exceed the collateral">bankrupt</span>'
      : '',
    r.hold ? `<span class="badge hold" title="${escapeHtml(r.hold.reason)}">on hold</span>` : '',
    problem ? `<span class="badge data">${escapeHtml(problem)}</span>` : '',
  ].join('');
}
