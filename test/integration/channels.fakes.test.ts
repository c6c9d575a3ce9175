import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { SesEmailSender, SnsSmsSender } from '../../functions/lib/channels/aws-senders.ts';
import {
  deliverWithRetries,
  type ChannelSender,
  type Delivery,
} from '../../functions/lib/channels/delivery.ts';
import { TelegramSender } from '../../functions/lib/channels/telegram.ts';
import { WebhookSender } from '../../functions/lib/channels/webhook.ts';
import { fakeProvider } from '../helpers/fake-http.ts';

const delivery = (over: Partial<Delivery> = {}): Delivery => ({
  alertId: 'a1',
  route: 'r',
  channel: 'telegram',
  to: '-100123',
  severity: 'critical',
  subject: '[Margin Guard] LIQUIDATING account A1',
  text: '*LIQUIDATING*',
  ...over,
});

function recordSleeps() {
  const sleeps: number[] = [];
  return { sleeps, sleep: async (ms: number) => void sleeps.push(ms) };
}

const aws = {
  region: 'eu-west-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  maxAttempts: 1,
};

describe('channels against local fakes of their providers', () => {
  it('Telegram: honours 429 retry_after, retries a 5xx, then delivers; the request is a MarkdownV2 sendMessage', async () => {
    const fake = await fakeProvider([
      {
        status: 429,
        body: JSON.stringify({
          ok: false,
          error_code: 429,
          description: 'Too Many Requests',
          parameters: { retry_after: 3 },
        }),
      },
      { status: 502, body: '{}' },
      { status: 200, body: JSON.stringify({ ok: true, result: { message_id: 7 } }) },
    ]);
    try {
      const { sleeps, sleep } = recordSleeps();
      const outcome = await deliverWithRetries(
        new TelegramSender(async () => 'TOKEN', fake.url),
        delivery(),
        { sleep, baseDelayMs: 100 },
      );
      expect(outcome).toEqual({ status: 'sent', attempts: 3 });
      expect(sleeps).toEqual([3000, 200]);
      expect(fake.requests[0]!.url).toBe('/botTOKEN/sendMessage');
      expect(JSON.parse(fake.requests[0]!.body)).toEqual({
        chat_id: '-100123',
        text: '*LIQUIDATING*',
        parse_mode: 'MarkdownV2',
        disable_web_page_preview: true,
      });
    } finally {
      await fake.close();
    }
  });

  it('Telegram: a 400 (bad request) is permanent: no retry, a failed outcome for the dead-letter queue', async () => {
    const fake = await fakeProvider([
      { status: 400, body: JSON.stringify({ ok: false, description: "Bad Request: can't parse entities" }) },
    ]);
    try {
      const outcome = await deliverWithRetries(
        new TelegramSender(async () => 'T', fake.url),
        delivery(),
        recordSleeps(),
      );
      expect(outcome).toMatchObject({ status: 'failed', attempts: 1, permanent: true });
      expect(fake.requests).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });

  it('chat webhook: gives up after the configured attempts on repeated 5xx', async () => {
    const fake = await fakeProvider([{ status: 503, body: 'down' }]);
    try {
      const { sleeps, sleep } = recordSleeps();
      const outcome = await deliverWithRetries(
        new WebhookSender(async () => `${fake.url}/hook`),
        delivery({ channel: 'webhook', to: '-' }),
        { attempts: 4, sleep, baseDelayMs: 100 },
      );
      expect(outcome).toMatchObject({
        status: 'failed',
        attempts: 4,
        permanent: false,
        error: 'webhook answered 503',
      });
      expect(sleeps).toEqual([100, 200, 400]);
      expect(JSON.parse(fake.requests[0]!.body).text).toContain('🔴 *[Margin Guard] LIQUIDATING account A1*');
    } finally {
      await fake.close();
    }
  });

  it('SES v2: sends the text and HTML parts; retries a throttled answer', async () => {
    const fake = await fakeProvider([
      {
        status: 429,
        body: JSON.stringify({ message: 'Maximum sending rate exceeded.' }),
        contentType: 'application/json',
      },
      { status: 200, body: JSON.stringify({ MessageId: 'm-1' }) },
    ]);
    try {
      const sender = new SesEmailSender(
        new SESv2Client({ ...aws, endpoint: fake.url }),
        'margin-guard@broker.example',
      );
      const outcome = await deliverWithRetries(
        sender,
        delivery({ channel: 'email', to: 'oncall@broker.example', html: '<p>hi</p>' }),
        recordSleeps(),
      );
      expect(outcome).toEqual({ status: 'sent', attempts: 2 });
      expect(fake.requests[1]!.url).toBe('/v2/email/outbound-emails');
      expect(JSON.parse(fake.requests[1]!.body)).toMatchObject({
        FromEmailAddress: 'margin-guard@broker.example',
        Destination: { ToAddresses: ['oncall@broker.example'] },
        Content: {
          Simple: {
            Subject: { Data: '[Margin Guard] LIQUIDATING account A1' },
            Body: { Html: { Data: '<p>hi</p>' } },
          },
        },
      });
    } finally {
      await fake.close();
    }
  });

  it('SNS SMS: publishes to the E.164 number as transactional; a 500 is retried', async () => {
    const ok = `<PublishResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>s-1</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>`;
    const boom = `<ErrorResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Receiver</Type><Code>InternalError</Code><Message>boom</Message></Error><RequestId>r</RequestId></ErrorResponse>`;
    const fake = await fakeProvider([
      { status: 500, body: boom, contentType: 'text/xml' },
      { status: 200, body: ok, contentType: 'text/xml' },
    ]);
    try {
      const sender = new SnsSmsSender(new SNSClient({ ...aws, endpoint: fake.url }));
      const outcome = await deliverWithRetries(
        sender,
        delivery({ channel: 'sms', to: '+447700900123', text: 'MG LIQUIDATION A1' }),
        recordSleeps(),
      );
      expect(outcome).toEqual({ status: 'sent', attempts: 2 });
      const form = new URLSearchParams(fake.requests[1]!.body);
      expect(form.get('Action')).toBe('Publish');
      expect(form.get('PhoneNumber')).toBe('+447700900123');
      expect(form.get('Message')).toBe('MG LIQUIDATION A1');
      expect([...form.values()]).toContain('Transactional');
    } finally {
      await fake.close();
    }
  });

  it('an unreachable provider is retryable and, in the end, a failed outcome (never an exception)', async () => {
    const sender: ChannelSender = new TelegramSender(async () => 'T', 'http://127.0.0.1:9');
    expect(await deliverWithRetries(sender, delivery(), { attempts: 2, ...recordSleeps() })).toMatchObject({
      status: 'failed',
      attempts: 2,
      permanent: false,
    });
  });

  it('Telegram: a retry_after beyond the in-process cap is not waited out: a retryable error says when', async () => {
    const tooMany = (seconds: number) => ({
      status: 429,
      body: JSON.stringify({
        ok: false,
        description: 'Too Many Requests',
        parameters: { retry_after: seconds },
      }),
    });
    const fake = await fakeProvider([tooMany(60)]);
    try {
      const { sleeps, sleep } = recordSleeps();
      const sender = new TelegramSender(async () => 'T', fake.url);
      const refused = deliverWithRetries(sender, delivery(), { sleep });
      await expect(refused).rejects.toMatchObject({
        name: 'RetryLaterError',
        code: 'provider-retry-later',
        retryAfterMs: 60_000,
      });
      // Never waited against the function's timeout, and asked once: the caller defers it, never drops it.
      expect(sleeps).toEqual([]);
      expect(fake.requests).toHaveLength(1);
    } finally {
      await fake.close();
    }
    // Short waits are waited out, but never more than the budget in all.
    const short = await fakeProvider([
      tooMany(2),
      tooMany(2),
      tooMany(2),
      { status: 200, body: '{"ok":true}' },
    ]);
    try {
      const { sleeps, sleep } = recordSleeps();
      const sender = new TelegramSender(async () => 'T', short.url);
      await expect(
        deliverWithRetries(sender, delivery(), { sleep, maxWaitMs: 3000, budgetMs: 5000 }),
      ).rejects.toMatchObject({ code: 'provider-retry-later', retryAfterMs: 2000 });
      expect(sleeps).toEqual([2000, 2000]);
    } finally {
      await short.close();
    }
  });
});
