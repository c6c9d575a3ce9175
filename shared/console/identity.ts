/**
 * Who a person is, as the audit trail and manual-action notifications name them. On AWS the console's
 * calls arrive with identity-pool credentials, so the IAM identity is the operator role for everyone;
 * the person is the Cognito user-pool subject API Gateway reports in `cognitoAuthenticationProvider`.
 * Locally it is the development login's name. Never taken from a request body.
 */
export interface Person {
  /** What people read: the e-mail or username on AWS, the login name locally. */
  name: string;
  /** Stable and unique: `cognito:<user-pool sub>`, `dev:<name>`. */
  id: string;
  via: 'cognito' | 'dev';
  /** The Cognito username (on a pool that signs in by e-mail, Cognito makes it the sub). */
  username?: string;
}

/** How an actor is written into the audit trail and notifications: the name, then the stable id. */
export const actorOf = (p: Person) => `${p.name} (${p.id})`;

/** A stable reason a request's person could not be established (a 403 on a write). */
export class IdentityError extends Error {
  constructor(
    readonly code: 'identity-missing' | 'identity-unverified',
    message: string,
  ) {
    super(message);
  }
}

const SUB = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const POOL = /^([a-z]{2}(?:-[a-z]+)+-\d)_[A-Za-z0-9]+$/;

/**
 * The user-pool subject from API Gateway's `cognitoAuthenticationProvider` for identity-pool credentials
 * of a user-pool sign-in:
 * `cognito-idp.<region>.amazonaws.com/<poolId>,cognito-idp.<region>.amazonaws.com/<poolId>:CognitoSignIn:<sub>`.
 * Checked: both parts name the expected pool (and its region), the sign-in kind is CognitoSignIn and the
 * subject is a UUID; anything else (another pool, a federated provider, a forged shape) is refused.
 */
export function parseCognitoProvider(
  provider: string,
  expectedPoolId: string,
): { poolId: string; sub: string } {
  const pool = POOL.exec(expectedPoolId);
  if (!pool) throw new IdentityError('identity-unverified', `not a user pool id: ${expectedPoolId}`);
  const issuer = `cognito-idp.${pool[1]}.amazonaws.com/${expectedPoolId}`;
  const parts = provider.split(',');
  if (parts.length !== 2 || parts[0] !== issuer)
    throw new IdentityError('identity-unverified', 'the sign-in is not from this console’s user pool');
  const [who, kind, sub, ...rest] = parts[1]!.split(':');
  if (who !== issuer || kind !== 'CognitoSignIn' || rest.length > 0 || !sub || !SUB.test(sub))
    throw new IdentityError('identity-unverified', 'the sign-in is not a user of this console’s user pool');
  return { poolId: expectedPoolId, sub };
}
