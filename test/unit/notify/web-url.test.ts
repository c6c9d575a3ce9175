import { describe, expect, it } from 'vitest';
import { deployConfigSchema } from '../../../infra/config.ts';
import { notificationPolicySchema } from '../../../shared/notify/policy.ts';
import { isWebUrl } from '../../../shared/schemas/web-url.ts';

describe('URLs in settings: https, or http on localhost', () => {
  it.each([
    ['https://console.broker.example/', true],
    ['https://console.broker.example:8443/#/accounts/A1', true],
    ['http://127.0.0.1:8080/', true],
    ['http://localhost:8080/', true],
    ['http://[::1]:8080/', true],
    ['http://console.broker.example/', false],
    ['http://127.0.0.1.evil.example/', false],
    ['javascript:alert(1)', false],
    ['data:text/html,<script>alert(1)</script>', false],
    ['file:///etc/passwd', false],
    ['https://user:pass@console.broker.example/', false],
    ['ftp://console.broker.example/', false],
    ['not a url', false],
  ])('%s → %s', (url, ok) => expect(isWebUrl(url)).toBe(ok));

  it('the notification policy names consoleUrl when it is not one', () => {
    const bad = notificationPolicySchema.safeParse({ consoleUrl: 'javascript:alert(document.domain)' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues).toEqual([
      expect.objectContaining({
        path: ['consoleUrl'],
        message: 'an https:// URL (http:// only on localhost, in local mode)',
      }),
    ]);
    expect(notificationPolicySchema.safeParse({ consoleUrl: 'http://127.0.0.1:8080/' }).success).toBe(true);
  });

  it('the deployment refuses an http login callback that is not localhost', () => {
    const field = (urls: string[]) =>
      deployConfigSchema.shape.consoleCallbackUrls.safeParse(JSON.stringify(urls)).success;
    expect(field(['http://localhost:8080/'])).toBe(true);
    expect(field(['http://console.broker.example/'])).toBe(false);
  });
});
