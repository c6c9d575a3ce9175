import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  actorFor,
  cognitoDirectory,
  cognitoIdentify,
  type UserDirectory,
} from '../../../functions/api/identity.ts';
import { IdentityError, parseCognitoProvider } from '../../../shared/console/identity.ts';

const POOL = 'eu-west-2_AbC123xyz';
const SUB = '3f2b8c1e-9a4d-4e5f-8a6b-0c1d2e3f4a5b';
const idp = (pool = POOL, region = 'eu-west-2') => `cognito-idp.${region}.amazonaws.com/${pool}`;
const provider = (sub = SUB, pool = POOL) => `${idp(pool)},${idp(pool)}:CognitoSignIn:${sub}`;
const event = (identity: Record<string, unknown>) =>
  ({ requestContext: { identity } }) as unknown as APIGatewayProxyEvent;
const signedIn = (p = provider()) =>
  event({
    cognitoAuthenticationType: 'authenticated',
    cognitoAuthenticationProvider: p,
    userArn: 'arn:aws:sts::123456789012:assumed-role/OperatorRole/CognitoIdentityCredentials',
  });
const directory = (users: Record<string, Awaited<ReturnType<UserDirectory['find']>>>): UserDirectory => ({
  find: async (sub) => users[sub] ?? null,
});
const code = async (p: Promise<unknown> | (() => unknown)) => {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e instanceof IdentityError ? e.code : `not an IdentityError: ${String(e)}`;
  }
  return 'accepted';
};

describe('the Cognito user behind a console request', () => {
  it('parses the user-pool subject from the authentication provider', () => {
    expect(parseCognitoProvider(provider(), POOL)).toEqual({ poolId: POOL, sub: SUB });
  });

  it.each([
    ['another user pool', provider(SUB, 'eu-west-2_Other999')],
    [
      'another region for the same pool id',
      `${idp(POOL, 'us-east-1')},${idp(POOL, 'us-east-1')}:CognitoSignIn:${SUB}`,
    ],
    ['a federated sign-in', `${idp()},${idp()}:Google:${SUB}`],
    ['a subject that is no UUID', provider('alice')],
    ['an extra part', `${provider()}:extra`],
    ['the two halves disagreeing', `${idp()},${idp('eu-west-2_Other999')}:CognitoSignIn:${SUB}`],
    ['one half only', `${idp()}:CognitoSignIn:${SUB}`],
    ['nothing', ''],
  ])('refuses %s', async (_what, p) => {
    expect(await code(() => parseCognitoProvider(p, POOL))).toBe('identity-unverified');
  });

  it('names the person by e-mail when the username is the sub (a pool that signs in by e-mail), else by username', async () => {
    const identify = cognitoIdentify(
      POOL,
      directory({ [SUB]: { username: SUB, email: 'alice@broker.example', enabled: true } }),
    );
    expect(await identify(signedIn())).toEqual({
      name: 'alice@broker.example',
      id: `cognito:${SUB}`,
      via: 'cognito',
      username: SUB,
    });
    const named = cognitoIdentify(POOL, directory({ [SUB]: { username: 'alice', enabled: true } }));
    expect(await actorFor(signedIn(), named)).toBe(`alice (cognito:${SUB})`);
  });

  it('refuses a user the pool does not have, a disabled one, and an unauthenticated identity', async () => {
    expect(await code(cognitoIdentify(POOL, directory({}))(signedIn()))).toBe('identity-unverified');
    const disabled = directory({ [SUB]: { username: 'bob', enabled: false } });
    expect(await code(cognitoIdentify(POOL, disabled)(signedIn()))).toBe('identity-unverified');
    const guest = event({
      cognitoAuthenticationType: 'unauthenticated',
      cognitoAuthenticationProvider: provider(),
    });
    const alice = directory({ [SUB]: { username: 'alice', enabled: true } });
    expect(await code(cognitoIdentify(POOL, alice)(guest))).toBe('identity-unverified');
  });

  it('an IAM caller that is no console sign-in is named by its ARN; a sign-in nobody can check is refused', async () => {
    const iam = event({ userArn: 'arn:aws:iam::123456789012:user/ops' });
    const identify = cognitoIdentify(POOL, directory({}));
    expect(await identify(iam)).toBeNull();
    expect(await actorFor(iam, identify)).toBe('api:arn:aws:iam::123456789012:user/ops');
    expect(await code(actorFor(signedIn()))).toBe('identity-unverified');
    expect(await code(actorFor(event({})))).toBe('identity-missing');
  });

  it('looks users up by sub in the one pool, and keeps the answer for five minutes', async () => {
    const sent: unknown[] = [];
    let t = 0;
    const client = {
      send: async (c: { input: unknown }) => {
        sent.push(c.input);
        return {
          Users: [{ Username: SUB, Enabled: true, Attributes: [{ Name: 'email', Value: 'a@b.example' }] }],
        };
      },
    };
    const dir = cognitoDirectory(POOL, client as never, () => t);
    expect(await dir.find(SUB)).toEqual({ username: SUB, email: 'a@b.example', enabled: true });
    await dir.find(SUB);
    expect(sent).toEqual([{ UserPoolId: POOL, Filter: `sub = "${SUB}"`, Limit: 1 }]);
    t = 300_001;
    await dir.find(SUB);
    expect(sent).toHaveLength(2);
  });
});
