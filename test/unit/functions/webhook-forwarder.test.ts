import type { SNSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { forward } from '../../../functions/webhook-forwarder/forward.ts';

const event = (severity: string) =>
  ({
    Records: [
      {
        Sns: {
          Subject: '[Margin Guard] LIQUIDATING account A1',
          Message: 'Account: A1\nLevel: LIQUIDATION',
          MessageAttributes: { severity: { Type: 'String', Value: severity } },
        },
      },
    ],
  }) as unknown as SNSEvent;

describe('webhook forwarder', () => {
  it('posts a readable chat message with the severity marked', async () => {
    const posted: { url: string; body: string }[] = [];
    const n = await forward(event('critical'), 'https://chat.example/hook', async (url, body) => {
      posted.push({ url, body });
      return { status: 200 };
    });
    expect(n).toBe(1);
    expect(posted[0]!.url).toBe('https://chat.example/hook');
    expect(JSON.parse(posted[0]!.body)).toEqual({
      text: '🔴 *[Margin Guard] LIQUIDATING account A1*\nAccount: A1\nLevel: LIQUIDATION',
    });
  });

  it('throws on a non-2xx answer so the invocation is retried, then dead-lettered', async () => {
    await expect(
      forward(event('warning'), 'https://chat.example/hook', async () => ({ status: 503 })),
    ).rejects.toThrow('webhook answered 503');
  });
});
