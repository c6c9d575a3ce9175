import {
  httpFailure,
  PermanentDeliveryError,
  RetryableDeliveryError,
  type ChannelSender,
  type Delivery,
} from './delivery.ts';

/**
 * Telegram Bot API `sendMessage` (MarkdownV2). The bot token is a credential (Secrets Manager on AWS),
 * fetched lazily; a 429 carries `parameters.retry_after` seconds, which the retry honours.
 */
export class TelegramSender implements ChannelSender {
  constructor(
    private readonly token: () => Promise<string>,
    private readonly baseUrl = 'https://api.telegram.org',
  ) {}

  async send(d: Delivery): Promise<void> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/bot${await this.token()}/sendMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          chat_id: d.to,
          text: d.text,
          parse_mode: 'MarkdownV2',
          disable_web_page_preview: true,
        }),
        signal: AbortSignal.timeout(5000),
      });
    } catch (e) {
      throw new RetryableDeliveryError(`telegram unreachable: ${(e as Error).message}`);
    }
    if (response.ok) return;
    const body = (await response.json().catch(() => ({}))) as {
      description?: string;
      parameters?: { retry_after?: number };
    };
    const retryAfter = body.parameters?.retry_after;
    const error = httpFailure(
      response.status,
      `telegram (${body.description ?? 'no description'})`,
      retryAfter === undefined ? undefined : retryAfter * 1000,
    );
    if (error instanceof PermanentDeliveryError && response.status === 401)
      throw new PermanentDeliveryError('telegram rejected the bot token (401)');
    throw error;
  }
}
