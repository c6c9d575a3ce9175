import type { Severity } from './messages.ts';

const MARK: Record<Severity, string> = { info: '🟢', warning: '🟠', critical: '🔴' };

/**
 * Text for a chat webhook that the sender did not write (account and instrument names, hold reasons,
 * subjects), made inert: `&`, `<` and `>` are Slack's (and Mattermost's) markup — `<!channel>`,
 * `<@U123>`, `<https://evil.example|Acknowledge>` — so they are sent as entities and shown as typed; a
 * bare `@channel`, `@here`, `@all` or `@everyone` (a mention in Mattermost) gets a zero-width joiner after
 * its `@`, so it reads the same and notifies nobody.
 */
export function escapeChat(text: string): string {
  return text
    .replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!)
    .replace(/@(channel|here|all|everyone)\b/gi, '@\u2060$1');
}

/** A chat-webhook body (Slack/Mattermost/Teams-compatible `text`) for one SNS notification. */
export function webhookPayload(
  subject: string,
  message: string,
  attributes: Record<string, string | undefined>,
): { text: string } {
  const severity = (attributes.severity as Severity | undefined) ?? 'info';
  const mark = MARK[severity] ?? MARK.info;
  // Everything but the mark and the bold is the alert's: escaped (links in it stay links: Slack reads
  // a bare URL as one, and `&amp;` in it as `&`).
  return { text: `${mark} *${escapeChat(subject)}*\n${escapeChat(message)}` };
}
