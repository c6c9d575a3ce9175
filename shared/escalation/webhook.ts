import type { Severity } from './messages.ts';

const MARK: Record<Severity, string> = { info: '🟢', warning: '🟠', critical: '🔴' };

/** A chat-webhook body (Slack/Mattermost/Teams-compatible `text`) for one SNS notification. */
export function webhookPayload(
  subject: string,
  message: string,
  attributes: Record<string, string | undefined>,
): { text: string } {
  const severity = (attributes.severity as Severity | undefined) ?? 'info';
  const mark = MARK[severity] ?? MARK.info;
  return { text: `${mark} *${subject}*\n${message}` };
}
