/**
 * `margin-guard/client`: a small typed client for a broker's systems — the ingestion contract
 * (docs/ingestion.md) and the account queries of the REST API (docs/openapi.json), each request signed
 * with AWS Signature Version 4 for the API's IAM authorization (service `execute-api`).
 *
 *   const mg = new MarginGuardClient({ endpoint: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/', region: 'eu-west-1' });
 *   await mg.putPosition('A1', 'SPY', 1733097600123, { quantity: '100', avgCost: '401.20' });
 *
 * Money stays in decimal strings both ways. An update that is not applied is a result, not an error
 * (`stale`: a replay or a late update; `unknown-account`: create the account first); a refused request
 * throws MarginGuardApiError with the API's code and, for a 400, every bad field.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { FieldIssue } from '../shared/errors.ts';
import type { PriceItem } from '../shared/pipeline/records.ts';

export interface ClientOptions {
  /** The API's invoke URL with its stage, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com/prod/`. */
  readonly endpoint: string;
  readonly region: string;
  /** @default the AWS SDK's default chain (environment, profile, SSO, instance and container roles) */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

export type IngestResult =
  { status: 'applied'; sequence: number } | { status: 'stale' | 'unknown-account'; message: string };

/** A request the API refused: its HTTP status, stable code and, for invalid input, every bad field. */
export class MarginGuardApiError extends Error {
  override readonly name = 'MarginGuardApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: readonly FieldIssue[] = [],
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;

export class MarginGuardClient {
  private readonly base: URL;
  private readonly signer: SignatureV4;
  private readonly fetch: typeof fetch;

  constructor(options: ClientOptions) {
    this.base = new URL(options.endpoint.endsWith('/') ? options.endpoint : `${options.endpoint}/`);
    this.signer = new SignatureV4({
      service: 'execute-api',
      region: options.region,
      credentials: options.credentials ?? defaultProvider(),
      sha256: Sha256,
    });
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  // The ingestion contract: each applied only if `sequence` is newer than what the item saw.
  putAccount(accountId: string, sequence: number, account: Json): Promise<IngestResult> {
    return this.ingest('PUT', ['accounts', accountId], { sequence, account });
  }
  setCash(accountId: string, sequence: number, cash: string): Promise<IngestResult> {
    return this.ingest('PUT', ['accounts', accountId, 'cash'], { sequence, cash });
  }
  replacePositions(accountId: string, sequence: number, positions: readonly Json[]): Promise<IngestResult> {
    return this.ingest('PUT', ['accounts', accountId, 'positions'], { sequence, positions });
  }
  putPosition(
    accountId: string,
    instrument: string,
    sequence: number,
    position: Json,
  ): Promise<IngestResult> {
    return this.ingest('PUT', ['accounts', accountId, 'positions', instrument], { sequence, position });
  }
  closePosition(accountId: string, instrument: string, sequence: number): Promise<IngestResult> {
    return this.ingest('DELETE', ['accounts', accountId, 'positions', instrument], undefined, {
      sequence: String(sequence),
    });
  }
  async postPrices(ticks: readonly PriceItem[]): Promise<{ stored: number; stale: number }> {
    return (await this.request('POST', ['prices'], { ticks })) as { stored: number; stale: number };
  }

  // Queries.
  risk(accountId: string): Promise<Json> {
    return this.request('GET', ['accounts', accountId, 'risk']);
  }
  margin(accountId: string): Promise<Json> {
    return this.request('GET', ['accounts', accountId, 'margin']);
  }
  withdrawable(accountId: string): Promise<Json> {
    return this.request('GET', ['accounts', accountId, 'withdrawable']);
  }
  whatIf(accountId: string, orders: readonly Json[]): Promise<Json> {
    return this.request('POST', ['accounts', accountId, 'what-if'], { orders });
  }

  private async ingest(
    method: string,
    path: readonly string[],
    body?: Json,
    query?: Record<string, string>,
  ): Promise<IngestResult> {
    try {
      return (await this.request(method, path, body, query)) as IngestResult;
    } catch (e) {
      if (
        e instanceof MarginGuardApiError &&
        e.status === 409 &&
        (e.code === 'stale' || e.code === 'unknown-account')
      )
        return { status: e.code as 'stale' | 'unknown-account', message: e.message };
      throw e;
    }
  }

  private async request(
    method: string,
    path: readonly string[],
    body?: Json,
    query?: Record<string, string>,
  ): Promise<Json> {
    const url = new URL(path.map(encodeURIComponent).join('/'), this.base);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    const text = body === undefined ? undefined : JSON.stringify(body);
    const signed = await this.signer.sign(
      new HttpRequest({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: { host: url.host, ...(text === undefined ? {} : { 'content-type': 'application/json' }) },
        body: text,
      }),
    );
    const response = await this.fetch(url, { method, headers: signed.headers, body: text });
    const answer = (await response.json().catch(() => ({}))) as Json;
    if (response.ok) return answer;
    throw new MarginGuardApiError(
      response.status,
      String(answer.error ?? 'http-error'),
      String(answer.message ?? (answer.issues ? 'invalid input' : `HTTP ${response.status}`)),
      (answer.issues as FieldIssue[] | undefined) ?? [],
    );
  }
}
