import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import {
  ResourceNotFoundException,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import { RetryLaterError } from '../../shared/errors.ts';
import { ackKid, tokenKid } from '../../shared/notify/ack-token.ts';

/**
 * How long a secret that was read is kept (seconds): long enough that a busy container reads it a few
 * times an hour, short enough that a rotated secret is seen within minutes. Failures are never kept.
 */
export const SECRET_MAX_AGE_SECONDS = 300;
/** Calls per lookup, with the SDK's backoff (exponential, jittered) on throttling, 5xx and the network. */
export const SECRET_ATTEMPTS = 5;
/** A link signed with a key this container does not know re-reads the keys at most this often (ms). */
export const ACK_KEY_REFRESH_MS = 30_000;

/**
 * Secrets Manager through Powertools Parameters: successes are cached for `maxAgeSeconds`, failures are
 * not (a throttled read is tried again by the next caller, not remembered for the container's life), and
 * transient errors are retried by the SDK with backoff. Concurrent lookups of one secret share one call.
 */
export class Secrets {
  private readonly inFlight = new Map<string, Promise<string | null>>();
  private readonly noPrevious = new Map<string, number>();
  private readonly maxAge: number;
  private readonly now: () => number;

  /**
   * `previous` reads the AWSPREVIOUS versions: a provider of its own, since Powertools caches by name and
   * would answer the current version's value for the previous one.
   */
  constructor(
    private readonly current: SecretsProvider,
    private readonly previousVersions: SecretsProvider,
    options: { maxAgeSeconds?: number; now?: () => number } = {},
  ) {
    this.maxAge = options.maxAgeSeconds ?? SECRET_MAX_AGE_SECONDS;
    this.now = options.now ?? Date.now;
  }

  /** The secret's current string (AWSCURRENT). */
  async get(name: string, options: { forceFetch?: boolean } = {}): Promise<string> {
    const value = await this.read(this.current, name, undefined, options.forceFetch ?? false);
    if (value === null) throw new Error(`secret ${name} does not exist`);
    return value;
  }

  /** The version before the current one (AWSPREVIOUS), or null when the secret was never rotated. */
  async previous(name: string, options: { forceFetch?: boolean } = {}): Promise<string | null> {
    const known = this.noPrevious.get(name);
    if (!options.forceFetch && known !== undefined && known > this.now()) return null;
    const value = await this.read(this.previousVersions, name, 'AWSPREVIOUS', options.forceFetch ?? false);
    if (value !== null) return value;
    // "Never rotated" is an answer, not a failure: kept like a value, so it is not asked on every link.
    this.noPrevious.set(name, this.now() + this.maxAge * 1000);
    return null;
  }

  private read(
    provider: SecretsProvider,
    name: string,
    stage: 'AWSPREVIOUS' | undefined,
    forceFetch: boolean,
  ): Promise<string | null> {
    const key = `${stage ?? 'AWSCURRENT'}\u0000${name}`;
    const pending = this.inFlight.get(key);
    if (pending && !forceFetch) return pending;
    const call = provider
      .get(name, {
        maxAge: this.maxAge,
        forceFetch,
        ...(stage ? { sdkOptions: { VersionStage: stage } } : {}),
      })
      .then(
        (value) => {
          if (typeof value !== 'string') throw new Error(`secret ${name} has no string`);
          return value;
        },
        (e: unknown) => {
          const cause = (e as { cause?: unknown }).cause ?? e;
          if (cause instanceof ResourceNotFoundException) return null;
          throw new RetryLaterError(
            'secret-unavailable',
            `secret ${name}${stage ? ` (${stage})` : ''} could not be read: ${(cause as Error).message}`,
            undefined,
            { cause },
          );
        },
      )
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, call);
    return call;
  }
}

/** Secrets as the Lambdas read them: one client, SECRET_ATTEMPTS calls with the SDK's backoff. */
export function awsSecrets(config: SecretsManagerClientConfig = {}): Secrets {
  const client = new SecretsManagerClient({ maxAttempts: SECRET_ATTEMPTS, ...config });
  return new Secrets(
    new SecretsProvider({ awsSdkV3Client: client }),
    new SecretsProvider({ awsSdkV3Client: client }),
  );
}

/**
 * The acknowledgement-link keys of a secret: the current version (which signs) and the previous one, so a
 * rotation keeps the links already sent valid until they expire (shared/notify/ack-token.ts). A link
 * whose key id is neither (signed by a container that saw a newer rotation) re-reads both, at most once
 * per ACK_KEY_REFRESH_MS, so forged key ids cannot drive up Secrets Manager calls.
 */
export function ackKeyring(
  secrets: Pick<Secrets, 'get' | 'previous'>,
  name: string,
  now: () => number = Date.now,
): (token?: string) => Promise<string[]> {
  let refreshedAt = -Infinity;
  const keys = async (forceFetch: boolean) => {
    const [current, previous] = await Promise.all([
      secrets.get(name, { forceFetch }),
      secrets.previous(name, { forceFetch }),
    ]);
    return previous === null ? [current] : [current, previous];
  };
  return async (token) => {
    const found = await keys(false);
    const kid = token === undefined ? null : tokenKid(token);
    if (kid === null || found.some((k) => ackKid(k) === kid) || now() - refreshedAt < ACK_KEY_REFRESH_MS)
      return found;
    refreshedAt = now();
    return keys(true);
  };
}
