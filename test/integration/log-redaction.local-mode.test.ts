import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startLocalSystem, type TimelineEntry } from '../../local/local-system.ts';
import { loadScenario } from '../../local/scenario.ts';
import { findContacts } from '../../shared/notify/redact.ts';
import { parsePricesCsv } from '../../shared/replay/prices-csv.ts';
import { callApi } from '../helpers/api-call.ts';
import { sharedLocalDynamoDb } from '../helpers/dynamodb.ts';

/**
 * Issue 21: logs carry no phone numbers, e-mail addresses, chat ids or acknowledgement URLs. A local run
 * with every kind of contact in its policy (Telegram chat, SMS on-call tiers, e-mail and an e-mail digest)
 * that alerts, pages, is acknowledged through its link and takes a manual hold; everything it logged
 * (stdout, stderr, the delivery log, dead letters, events, broker events, the timeline) is scanned.
 */
const root = join(import.meta.dirname, '..', '..');
const bars = parsePricesCsv(
  readFileSync(join(root, 'test', 'fixtures', 'crash-2020.csv'), 'utf8'),
  'crash-2020.csv',
).filter((b) => b.date >= '2020-02-20' && b.date <= '2020-02-27');
const scenario = loadScenario(join(root, 'local', 'scenarios', 'crash-2020.json'));
scenario.accounts = scenario.accounts.filter((a) =>
  ['LEV-5X', 'REGT-2X'].includes((a.account as { id: string }).id),
);
const policy = scenario.settings!.notifications as { routes: Record<string, string>[] };
/** Every recipient the policy names: chat ids, phone numbers, e-mail addresses. */
const contacts = policy.routes.flatMap((r) =>
  [r.chatId, r.phoneNumber, r.address].filter(Boolean),
) as string[];

let printed: string[] = [];
beforeEach(() => {
  printed = [];
  const keep = (chunk: unknown) => void printed.push(String(chunk));
  for (const stream of [process.stdout, process.stderr])
    vi.spyOn(stream, 'write').mockImplementation((chunk: unknown) => (keep(chunk), true));
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const)
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => keep(args.map(String).join(' ')));
});
afterEach(() => vi.restoreAllMocks());

/** What a log must not hold: a policy's contact, a token-bearing or ack URL, any address or number. */
function leaks(text: string): string[] {
  return [
    ...contacts.filter((c) => text.includes(c)),
    ...findContacts(text),
    ...(text.includes('token=') ? ['token='] : []),
  ];
}

describe('no contacts or acknowledgement links in the logs of a local run', () => {
  it('pages, is acknowledged through its link and holds an account: zero phone numbers, e-mails, chat ids, ack URLs', async () => {
    expect(contacts).toEqual(
      expect.arrayContaining(['-1001234567890', '+447700900101', 'head.of.risk@broker.example']),
    );
    const outDir = mkdtempSync(join(tmpdir(), 'mg-logscan-'));
    const timeline: TimelineEntry[] = [];
    const system = await startLocalSystem({
      scenario,
      bars,
      outDir,
      dynamoDb: sharedLocalDynamoDb('logscan'),
      onTimeline: (e) => timeline.push(e),
    });
    try {
      const result = await system.replay();
      // The run did send to contacts (the desk's chat, the on-call phone): the simulated inboxes have them,
      // and the scan finds them there, so it can fail.
      const outbox = readFileSync(result.files.outbox, 'utf8');
      for (const c of ['-1001234567890', '+447700900101']) expect(outbox).toContain(c);
      expect(leaks(outbox)).not.toEqual([]);
      // Acknowledge the page through its link (the confirmation page, then its form); a forged link is
      // refused; then a manual hold, which notifies the desk.
      const token = outbox
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { text: string })
        .map((m) => /token=([^\s)]+)/.exec(m.text)?.[1])
        .find(Boolean)!;
      expect((await callApi(system.api, 'GET', '/ack', { query: { token } })).status).toBe(200);
      const form = new URLSearchParams({ token }).toString();
      expect((await callApi(system.api, 'POST', '/ack', { body: form })).status).toBe(200);
      expect((await callApi(system.api, 'GET', '/ack', { query: { token: `${token}x` } })).status).toBe(403);
      await callApi(system.api, 'POST', '/accounts/{id}/hold', {
        id: 'LEV-5X',
        body: { reason: 'desk is on it' },
      });
      await system.settle();

      const logs = readdirSync(outDir)
        .filter((f) => f.endsWith('.jsonl') && f !== 'outbox.jsonl')
        .map((f) => [f, readFileSync(join(outDir, f), 'utf8')] as const);
      expect(logs.map(([f]) => f).sort()).toEqual([
        'broker-events.jsonl',
        'dead-letters.jsonl',
        'events.jsonl',
        'notifications.jsonl',
      ]);
      const deliveries = logs.find(([f]) => f === 'notifications.jsonl')![1];
      expect(deliveries).toContain('"route":"primary-sms"');
      expect(deliveries).toContain('[ack link]');
      for (const [file, text] of [
        ...logs,
        ['stdout/stderr/console', printed.join('\n')] as const,
        ['timeline', timeline.map((e) => e.text).join('\n')] as const,
      ])
        expect({ file, leaks: leaks(text) }).toEqual({ file, leaks: [] });
    } finally {
      await system.stop();
    }
  }, 600_000);
});
