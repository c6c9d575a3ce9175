import type { SNSEvent } from 'aws-lambda';
import { webhookPayload } from '../../shared/escalation/webhook.ts';

export type Post = (url: string, body: string) => Promise<{ status: number }>;

export const fetchPost: Post = async (url, body) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(5000),
  });
  return { status: response.status };
};

/**
 * Forwards SNS alerts and pages to a chat webhook. A non-2xx answer throws, so the asynchronous invocation
 * is retried and, failing that, lands in the dead-letter queue: a page is never dropped quietly.
 */
export async function forward(event: SNSEvent, webhookUrl: string, post: Post = fetchPost): Promise<number> {
  for (const record of event.Records) {
    const { Subject, Message, MessageAttributes } = record.Sns;
    const attributes = Object.fromEntries(
      Object.entries(MessageAttributes ?? {}).map(([k, v]) => [k, v.Value]),
    );
    const { status } = await post(
      webhookUrl,
      JSON.stringify(webhookPayload(Subject ?? 'Margin Guard', Message, attributes)),
    );
    if (status < 200 || status >= 300) throw new Error(`webhook answered ${status}`);
  }
  return event.Records.length;
}
