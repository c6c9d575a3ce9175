/**
 * What logs may say about a notification: no phone numbers, e-mail addresses, chat ids or live
 * acknowledgement links (issue 21). A delivery's log line names its route (the policy's name for the
 * recipient) instead of the recipient, and its text and failure reason are scrubbed of links that carry a
 * token, of acknowledgement URLs, of e-mail addresses and of E.164 numbers. Pure: used by the dispatcher
 * for its log lines and dead letters, and by local mode.
 */

/** Any URL that carries a token, or points at the acknowledgement route (it is a live credential). */
const ACK_LINK = /\b[a-z][a-z0-9+.-]*:\/\/[^\s<>"'()|\]\\]*(?:[?&]token=|\/ack\b)[^\s<>"'()|\]\\]*/gi;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
/** E.164, as the policy accepts phone numbers (shared/notify/policy.ts), and as providers echo them. */
const PHONE = /\+[1-9]\d{6,14}(?!\d)/g;

/** The text with acknowledgement links, e-mail addresses and phone numbers replaced by placeholders. */
export function redactText(text: string): string {
  return text.replace(ACK_LINK, '[ack link]').replace(EMAIL, '[e-mail]').replace(PHONE, '[phone]');
}

/** Channels whose `to` is a person's contact (the webhook's and the console's are '-'; a topic's is its name). */
const CONTACT_CHANNELS = new Set(['telegram', 'email', 'sms']);

/**
 * A delivery (or its log line) as it may be logged or dead-lettered: the recipient dropped where it is a
 * contact (the route names it), the text and reason scrubbed, the HTML part dropped.
 */
export function redactDelivery<
  T extends { channel?: string; to?: string; text?: string; html?: string; reason?: string },
>(record: T): T {
  const { to, text, html, reason, ...rest } = record;
  return {
    ...rest,
    ...(to !== undefined && !CONTACT_CHANNELS.has(record.channel ?? '') ? { to } : {}),
    ...(text !== undefined ? { text: redactText(text) } : {}),
    ...(html !== undefined ? { html: '[html part]' } : {}),
    ...(reason !== undefined ? { reason: redactText(reason) } : {}),
  } as T;
}

/** True when the text still holds something logs must not carry (for tests and checks). */
export function findContacts(text: string): string[] {
  return [...text.matchAll(ACK_LINK), ...text.matchAll(EMAIL), ...text.matchAll(PHONE)].map((m) => m[0]);
}

/** The contact fields of a route (shared/notify/policy.ts routeSchema). */
const CONTACT_FIELDS = ['chatId', 'address', 'phoneNumber'] as const;

/** A contact with all but its edges hidden: `+44•••••••23`, `o•••@example.com`, `•••4567`. */
export function maskContact(value: string): string {
  const at = value.indexOf('@');
  if (at > 0) return `${value[0]}•••${value.slice(at)}`;
  if (value.startsWith('+'))
    return `${value.slice(0, 3)}${'•'.repeat(Math.max(3, value.length - 5))}${value.slice(-2)}`;
  return `•••${value.slice(-Math.min(4, Math.floor(value.length / 2)))}`;
}

/**
 * A notification policy as `GET /notifications` shows it: every route's contact masked (maskContact).
 * Contacts are write-only through the API — a viewer reads who is on call, not their phone number — and a
 * masked contact sent back with `PUT /notifications` is refused by the policy's own validation, so a
 * read-modify-write can never store one.
 */
export function maskPolicyContacts<P extends { routes: readonly Record<string, unknown>[] }>(policy: P): P {
  return {
    ...policy,
    routes: policy.routes.map((route) => {
      const out: Record<string, unknown> = { ...route };
      for (const field of CONTACT_FIELDS)
        if (typeof out[field] === 'string') out[field] = maskContact(out[field] as string);
      return out;
    }),
  };
}
