import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeResponse {
  status: number;
  body: string;
  contentType?: string;
}

export interface RecordedRequest {
  method: string;
  url: string;
  body: string;
}

/**
 * A local HTTP fake of a provider (Telegram, a chat webhook, SES, SNS): it answers with the scripted
 * responses in order (the last one repeats) and records every request. No call leaves the machine.
 */
export async function fakeProvider(script: FakeResponse[]) {
  const requests: RecordedRequest[] = [];
  let next = 0;
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const r = script[Math.min(next++, script.length - 1)]!;
      res.writeHead(r.status, { 'content-type': r.contentType ?? 'application/json' });
      res.end(r.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
