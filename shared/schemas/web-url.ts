import { z } from 'zod';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Whether a URL is one people or a sender may be pointed at: https, or http to this machine itself (local
 * mode serves the console on http://127.0.0.1). `javascript:`, `data:`, `file:`, plain http elsewhere and
 * URLs with credentials in them are not.
 */
export function isWebUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (url.protocol === 'https:') return url.hostname !== '';
  return url.protocol === 'http:' && LOOPBACK.has(url.hostname);
}

/** A settings URL: https (or http on localhost, for local mode); the issue names what is allowed. */
export const webUrl = z
  .url()
  .refine(isWebUrl, { error: 'an https:// URL (http:// only on localhost, in local mode)' });
