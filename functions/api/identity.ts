import { CognitoIdentityProviderClient, ListUsersCommand } from '@aws-sdk/client-cognito-identity-provider';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { actorOf, IdentityError, parseCognitoProvider, type Person } from '../../shared/console/identity.ts';

/** The person behind a request, or null when it is no console sign-in (another IAM caller). */
export type Identify = (event: APIGatewayProxyEvent) => Promise<Person | null>;

/** A user-pool user by subject: who they are and whether they may still act. */
export interface UserDirectory {
  find(sub: string): Promise<{ username: string; email?: string; enabled: boolean } | null>;
}

/**
 * The Cognito user of a console request: the subject from the request context's authentication provider
 * (parsed and checked against the console's user pool), then the user as the pool has them (a deleted
 * or disabled user is refused). A request with no provider is not a console sign-in: null.
 */
export function cognitoIdentify(userPoolId: string, directory: UserDirectory): Identify {
  return async (e) => {
    const identity = e.requestContext?.identity;
    const provider = identity?.cognitoAuthenticationProvider;
    if (!provider) return null;
    if (identity.cognitoAuthenticationType !== 'authenticated')
      throw new IdentityError('identity-unverified', 'an unauthenticated identity cannot act');
    const { sub } = parseCognitoProvider(provider, userPoolId);
    const user = await directory.find(sub);
    if (!user) throw new IdentityError('identity-unverified', 'no such user in the console’s user pool');
    if (!user.enabled) throw new IdentityError('identity-unverified', 'this user is disabled');
    // On a pool that signs in by e-mail the username is the sub: the e-mail is the readable name.
    const name = user.username === sub && user.email ? user.email : user.username;
    return { name, id: `cognito:${sub}`, via: 'cognito', username: user.username };
  };
}

/** The user pool through ListUsers (filter by sub), each answer kept for five minutes. */
export function cognitoDirectory(
  userPoolId: string,
  client: Pick<CognitoIdentityProviderClient, 'send'> = new CognitoIdentityProviderClient({}),
  now: () => number = Date.now,
): UserDirectory {
  const cache = new Map<string, { until: number; user: Awaited<ReturnType<UserDirectory['find']>> }>();
  return {
    async find(sub) {
      const hit = cache.get(sub);
      if (hit && hit.until > now()) return hit.user;
      const out = await client.send(
        new ListUsersCommand({ UserPoolId: userPoolId, Filter: `sub = "${sub}"`, Limit: 1 }),
      );
      const u = out.Users?.[0];
      const user = u?.Username
        ? {
            username: u.Username,
            email: u.Attributes?.find((a) => a.Name === 'email')?.Value,
            enabled: u.Enabled !== false,
          }
        : null;
      cache.set(sub, { until: now() + 300_000, user });
      return user;
    },
  };
}

/**
 * The actor an audit entry and a notification name: the person (Cognito user, development login), or an
 * IAM caller that is no console sign-in by its ARN. A console sign-in that cannot be checked is refused.
 */
export async function actorFor(e: APIGatewayProxyEvent, identify?: Identify): Promise<string> {
  const person = identify ? await identify(e) : null;
  if (person) return actorOf(person);
  const identity = e.requestContext?.identity;
  if (identity?.cognitoAuthenticationProvider)
    throw new IdentityError('identity-unverified', 'no user pool is configured to check this sign-in');
  const arn = identity?.userArn ?? identity?.caller;
  if (!arn) throw new IdentityError('identity-missing', 'the request names no caller');
  return `api:${arn}`;
}
