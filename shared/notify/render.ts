import { Decimal } from '../decimal.ts';
import type { Alert } from './alert.ts';

/** Links a message carries: the account in the console, and (for a page) a one-click acknowledgement. */
export interface Links {
  console?: string;
  ack?: string;
}

const ratio = (r: string | null) =>
  r === null ? 'no requirement' : new Decimal(r).toDecimalPlaces(3).toFixed();
const distance = (m: string | null) =>
  m === null ? 'no move reaches it' : `${new Decimal(m).times(100).toDecimalPlaces(1).toFixed()}% move`;

function facts(a: Alert): [string, string][] {
  return [
    ['Account', a.accountId],
    ['Level', a.level ?? 'unknown'],
    ['Margin ratio', ratio(a.marginRatio)],
    ['Margin call', distance(a.callMove)],
    ...(a.done ? ([['Done', a.done]] as [string, string][]) : []),
    ['Next', a.next],
    ...(a.incidentId ? ([['Incident', a.incidentId]] as [string, string][]) : []),
  ];
}

export const subjectOf = (a: Alert) => `[Margin Guard] ${a.headline}`.slice(0, 99);

export function plainText(a: Alert, links: Links = {}): string {
  return [
    subjectOf(a),
    ...facts(a).map(([k, v]) => `${k}: ${v}`),
    ...(links.console ? [`Console: ${links.console}`] : []),
    ...(links.ack ? [`Acknowledge: ${links.ack}`] : []),
  ].join('\n');
}

/** Telegram MarkdownV2: these characters must be escaped everywhere outside entities. */
export function escapeMarkdownV2(s: string): string {
  return s.replace(/[_*[\]()~`>#+\-=|{}.!\\]/g, (c) => `\\${c}`);
}

export function telegramText(a: Alert, links: Links = {}): string {
  const url = (u: string) => u.replace(/[)\\]/g, (c) => `\\${c}`);
  return [
    `*${escapeMarkdownV2(subjectOf(a))}*`,
    ...facts(a).map(([k, v]) => `${escapeMarkdownV2(k)}: ${escapeMarkdownV2(v)}`),
    [
      links.console ? `[Open in console](${url(links.console)})` : '',
      links.ack ? `[Acknowledge](${url(links.ack)})` : '',
    ]
      .filter(Boolean)
      .join('  '),
  ]
    .filter(Boolean)
    .join('\n');
}

const GSM7 = /^[A-Za-z0-9 @£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!"#¤%&'()*+,\-./:;<=>?¡ÄÖÑÜ§¿äöñüà]*$/;

/**
 * An SMS that fits one segment (160 GSM-7 characters) whenever it can: account, level, ratio, distance,
 * and the acknowledgement link. Details are dropped first; the link never is (a page without it would
 * have to be acknowledged in the console), even if that takes a second segment.
 */
export function smsText(a: Alert, links: Links = {}): string {
  const core = `MG ${a.level ?? ''} ${a.accountId}: ratio ${ratio(a.marginRatio)}, call ${distance(a.callMove).replace(' move', '')}`;
  const candidates = [
    [core, a.done ? `Done: ${a.done}` : '', links.ack ? `Ack: ${links.ack}` : ''],
    [core, links.ack ? `Ack: ${links.ack}` : ''],
  ].map((parts) => parts.filter(Boolean).join('. '));
  const ascii = (s: string) => s.replace(/[−–]/g, '-');
  return ascii(candidates.find((c) => ascii(c).length <= 160 && GSM7.test(ascii(c))) ?? candidates.at(-1)!);
}

const html = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** E-mail: a readable HTML table with the same facts as the text part, and the console and ack links. */
export function emailHtml(a: Alert, links: Links = {}): string {
  const colour = { info: '#1a7f37', warning: '#b58100', critical: '#c62828' }[a.severity];
  return `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#1f2328">
<h2 style="border-left:6px solid ${colour};padding-left:8px">${html(subjectOf(a))}</h2>
<table cellpadding="6" style="border-collapse:collapse">${facts(a)
    .map(([k, v]) => `<tr><th align="left" style="color:#59636e">${html(k)}</th><td>${html(v)}</td></tr>`)
    .join('')}</table>
<p>${links.ack ? `<a href="${html(links.ack)}" style="background:#1f6feb;color:#fff;padding:8px 14px;border-radius:4px;text-decoration:none">Acknowledge</a> ` : ''}${
    links.console ? `<a href="${html(links.console)}">Open the account in the console</a>` : ''
  }</p>
<p style="color:#59636e;font-size:12px">Margin Guard · ${html(a.at)}</p></body></html>`;
}
