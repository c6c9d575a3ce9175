import { describe, expect, it } from 'vitest';
import { WebhookSender } from '../../../functions/lib/channels/webhook.ts';
import { escapeChat, webhookPayload } from '../../../shared/escalation/webhook.ts';
import type { Alert } from '../../../shared/notify/alert.ts';
import { emailHtml, plainText, subjectOf, telegramText } from '../../../shared/notify/render.ts';

/** What people and brokers type, that a renderer did not write: a hold reason, an instrument, an account. */
const HOSTILE = '<!channel> wire in flight, see <https://evil.example/ack|Acknowledge> @here & <@U024BE7LH>';
const alert: Alert = {
  id: 'A1:manual:hold',
  category: 'manual-action',
  severity: 'info',
  accountId: 'ACME<b>',
  incidentId: null,
  level: 'WARNING',
  marginRatio: '1.8',
  callMove: '-0.1',
  headline: `hold placed (${HOSTILE}) on account ACME<b> by olivia (dev:olivia)`,
  done: `hold placed (${HOSTILE})`,
  next: 'nothing further from automation for this action',
  at: '2026-12-01T00:00:00.000Z',
};
const links = {
  console: 'https://console.example/#/accounts/ACME',
  ack: 'https://api.example/ack?token=abc&x=1',
};

describe('renderers escape what they did not write', () => {
  it('chat webhook: no mention, no link and no markup of Slack’s or Mattermost’s survives from the alert', () => {
    const { text } = webhookPayload(subjectOf(alert), plainText(alert, links), { severity: 'info' });
    expect(text).not.toMatch(/<!channel>|<https:\/\/evil|<@U|<b>/);
    expect(text).not.toMatch(/@here\b/);
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).toContain('&lt;https://evil.example/ack|Acknowledge&gt;');
    expect(text).toContain('@\u2060here &amp; &lt;@U024BE7LH&gt;');
    // Its own links stay (a bare URL is a link; Slack reads &amp; in it as &).
    expect(text).toContain('Acknowledge: https://api.example/ack?token=abc&amp;x=1');
    expect(text.startsWith('🟢 *')).toBe(true);
  });

  it('the webhook sender posts the escaped text', async () => {
    const bodies: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (_url: string, init: { body: string }) => {
      bodies.push(init.body);
      return new Response('ok', { status: 200 });
    }) as unknown as typeof fetch;
    try {
      await new WebhookSender(async () => 'https://hooks.example/T/B/X').send({
        alertId: alert.id,
        route: 'desk-chat',
        channel: 'webhook',
        severity: 'info',
        subject: subjectOf(alert),
        to: '-',
        text: plainText(alert, links),
      });
    } finally {
      globalThis.fetch = realFetch;
    }
    const { text } = JSON.parse(bodies[0]!) as { text: string };
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<https://evil.example');
  });

  it('escapeChat leaves ordinary text alone', () => {
    expect(escapeChat('SELL 10 SPY at 250.00 — ratio 1.2 (email: ops@broker.example)')).toBe(
      'SELL 10 SPY at 250.00 — ratio 1.2 (email: ops@broker.example)',
    );
  });

  it('e-mail: HTML-escaped; Telegram: MarkdownV2-escaped (no link of the alert’s own making)', () => {
    const html = emailHtml(alert, links);
    expect(html).not.toContain('<!channel>');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;https://evil.example/ack|Acknowledge&gt;');
    const tg = telegramText({ ...alert, done: 'see [Acknowledge](https://evil.example)' }, links);
    expect(tg).toContain('\\[Acknowledge\\]\\(https://evil\\.example\\)');
    expect(tg.match(/\]\(/g)).toHaveLength(2); // the console and ack links the renderer wrote
  });
});
