import { AckRefusedError } from '../../shared/errors.ts';
import type { Alert } from '../../shared/notify/alert.ts';
import { foreignRecipient, linkActor, verifyAck, type AckClaim } from '../../shared/notify/ack-token.ts';
import type { PageState } from '../../shared/notify/ladder.ts';
import type { NotificationPolicy } from '../../shared/notify/policy.ts';
import { auditId, auditItem } from './actions-repository.ts';
import type { Acknowledgement } from './dispatcher.ts';
import type { NotifyStore } from './notify-store.ts';

/** What the public /ack routes need: the keys, the page store and the policy in force. */
export interface AckLinkDeps {
  /** The keys that verify links, current first; given the link (a key id not seen yet re-reads them). */
  keys(token: string): Promise<string | readonly string[]>;
  store: Pick<NotifyStore, 'page' | 'linkUse' | 'acknowledgeWithLink'>;
  policy(): Promise<NotificationPolicy>;
  now(): Date;
}

/** A link that may acknowledge its page: what it claims, and the page as it stands. */
export interface InspectedLink {
  claim: AckClaim;
  page: PageState & { alert?: Alert };
  policy: NotificationPolicy;
}

/**
 * Checks a link without changing anything (the confirmation page, GET): signed by a key in force
 * (`ack-link-invalid`, `ack-link-tampered`), not expired (`ack-link-expired`), its page exists
 * (`ack-page-unknown`), not used already (`ack-link-replayed`), and sent to a recipient who is still the
 * page's (`ack-link-foreign-recipient`). Throws AckRefusedError with the first that fails.
 */
export async function inspectLink(token: string, d: AckLinkDeps): Promise<InspectedLink> {
  const claim = verifyAck(token, await d.keys(token), d.now());
  const page = (await d.store.page(claim.pageId)) as (PageState & { alert?: Alert }) | null;
  if (!page) throw new AckRefusedError('ack-page-unknown', 'token: this page no longer exists');
  const use = await d.store.linkUse(claim.pageId, claim.nonce);
  if (use) throw replayed(use);
  const policy = await d.policy();
  const foreign = foreignRecipient(claim, policy);
  if (foreign) throw foreign;
  return { claim, page, policy };
}

const replayed = (use: { by: string; at: string }) =>
  new AckRefusedError(
    'ack-link-replayed',
    `token: this link was used already (${use.by}, ${use.at}); a link acknowledges once`,
  );

/**
 * Acknowledges the link's page (the confirmation page's POST): checked as inspectLink does, then the
 * link's single use, the acknowledgement and its audit entry (who: the link's recipient and channel) in
 * one transaction. A page acknowledged already is reported as such (`first: false`), the link unspent.
 */
export async function acknowledgeLink(token: string, d: AckLinkDeps): Promise<Acknowledgement> {
  const { claim, page } = await inspectLink(token, d);
  const by = linkActor(claim);
  const at = d.now().toISOString();
  const audit = auditItem(
    {
      accountId: page.accountId,
      ...(page.incidentId ? { incidentId: page.incidentId } : {}),
      action: 'page-acknowledged',
      actor: by,
      details: {
        pageId: page.pageId,
        tier: page.tier,
        attempt: page.attempt,
        via: 'link',
        route: claim.route,
        channel: claim.channel,
      },
    },
    at,
    auditId(),
  );
  const out = await d.store.acknowledgeWithLink(page.pageId, claim.nonce, by, at, audit);
  if (!out) throw new AckRefusedError('ack-page-unknown', 'token: this page no longer exists');
  if (out.kind === 'replayed') throw replayed(out.use);
  return {
    pageId: page.pageId,
    accountId: out.page.accountId,
    ackedBy: out.page.ackedBy!,
    ackedAt: out.page.ackedAt!,
    first: out.kind === 'acknowledged',
  };
}
