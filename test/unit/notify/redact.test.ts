import { describe, expect, it } from 'vitest';
import { notificationPolicySchema } from '../../../shared/notify/policy.ts';
import {
  findContacts,
  maskPolicyContacts,
  redactDelivery,
  redactText,
} from '../../../shared/notify/redact.ts';

describe('redaction of what logs say about notifications', () => {
  it('scrubs acknowledgement links, e-mail addresses and E.164 numbers, and nothing else', () => {
    const text =
      'MG CRITICAL LEV-5X ratio 0.93 at 4,970.79 on 2020-03-12. Ack: https://api.example.com/prod/ack?token=v1.abc_DEF-1.sig ' +
      '[Acknowledge](http://127.0.0.1:8080/api/ack?token=a.b) <https://x.example/ack|Acknowledge> ' +
      'ses: Email address is not verified: oncall@broker.example; sns: +447700900123 opted out';
    const out = redactText(text);
    expect(out).toBe(
      'MG CRITICAL LEV-5X ratio 0.93 at 4,970.79 on 2020-03-12. Ack: [ack link] ' +
        '[Acknowledge]([ack link]) <[ack link]|Acknowledge> ' +
        'ses: Email address is not verified: [e-mail]; sns: [phone] opted out',
    );
    expect(findContacts(out)).toEqual([]);
    expect(findContacts(text)).toHaveLength(5);
    // A console link without a token stays: it is not a credential.
    expect(redactText('details: https://console.example.com/#/accounts/A1')).toBe(
      'details: https://console.example.com/#/accounts/A1',
    );
  });

  it('a log line names the route, never the recipient; topics and the webhook keep their target', () => {
    expect(
      redactDelivery({
        route: 'oncall-sms',
        channel: 'sms',
        to: '+447700900123',
        text: 'Ack: https://a/ack?token=x',
      }),
    ).toEqual({ route: 'oncall-sms', channel: 'sms', text: 'Ack: [ack link]' });
    expect(
      redactDelivery({ channel: 'telegram', to: '-1001234567890', reason: 'telegram answered 400' }),
    ).toEqual({
      channel: 'telegram',
      reason: 'telegram answered 400',
    });
    expect(redactDelivery({ channel: 'email', to: 'a@b.example', html: '<a href="x">', text: 't' })).toEqual({
      channel: 'email',
      html: '[html part]',
      text: 't',
    });
    expect(redactDelivery({ channel: 'sns-topic', to: 'pages' })).toEqual({
      channel: 'sns-topic',
      to: 'pages',
    });
    expect(redactDelivery({ channel: 'webhook', to: '-' })).toEqual({ channel: 'webhook', to: '-' });
  });
});

describe('GET /notifications shows who is on call, not how to reach them', () => {
  it('masks every route’s contact, and a masked contact cannot be stored back', () => {
    const policy = notificationPolicySchema.parse({
      routes: [
        { name: 'primary', channel: 'sms', phoneNumber: '+447700900123' },
        { name: 'desk', channel: 'email', address: 'oncall@broker.example' },
        { name: 'chat', channel: 'telegram', chatId: '-1001234567' },
        { name: 'console', channel: 'websocket' },
      ],
    });
    const shown = maskPolicyContacts(policy);
    expect(shown.routes).toEqual([
      expect.objectContaining({ name: 'primary', phoneNumber: '+44••••••••23' }),
      expect.objectContaining({ name: 'desk', address: 'o•••@broker.example' }),
      expect.objectContaining({ name: 'chat', chatId: '•••4567' }),
      expect.objectContaining({ name: 'console', channel: 'websocket' }),
    ]);
    expect(findContacts(JSON.stringify(shown))).toEqual([]);
    expect(JSON.stringify(shown)).not.toContain('1001234567');
    // A read-modify-write that sends the masked policy back is refused, naming each masked contact.
    const back = notificationPolicySchema.safeParse(JSON.parse(JSON.stringify(shown)));
    expect(back.success).toBe(false);
    expect(back.error!.issues.map((i) => i.path.join('.'))).toEqual(
      expect.arrayContaining(['routes.0.phoneNumber', 'routes.1.address', 'routes.2.chatId']),
    );
  });
});
