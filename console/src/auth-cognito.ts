import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from '@aws-sdk/client-cognito-identity';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ConsoleConfig, Role, Session } from './config.ts';

type CognitoConfig = Extract<ConsoleConfig, { auth: 'cognito' }>;
const TOKENS = 'margin-guard-tokens';
const VERIFIER = 'margin-guard-pkce';

const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** Sends the browser to the hosted login page (authorization code with PKCE). */
async function redirectToLogin(c: CognitoConfig): Promise<never> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  sessionStorage.setItem(VERIFIER, verifier);
  const challenge = base64url(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
  );
  const url = new URL(`https://${c.loginDomain}/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: c.userPoolClientId,
    redirect_uri: location.origin + '/',
    scope: 'openid email profile',
    code_challenge_method: 'S256',
    code_challenge: challenge,
  }).toString();
  location.assign(url.toString());
  return new Promise(() => {});
}

async function exchangeCode(c: CognitoConfig, code: string): Promise<string> {
  const res = await fetch(`https://${c.loginDomain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: c.userPoolClientId,
      code,
      redirect_uri: location.origin + '/',
      code_verifier: sessionStorage.getItem(VERIFIER) ?? '',
    }),
  });
  if (!res.ok) throw new Error(`sign-in failed (${res.status})`);
  const { id_token } = (await res.json()) as { id_token: string };
  sessionStorage.setItem(TOKENS, id_token);
  history.replaceState(null, '', location.pathname + location.hash);
  return id_token;
}

function claims(idToken: string): Record<string, unknown> {
  const payload = idToken.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(atob(payload)) as Record<string, unknown>;
}

/**
 * Cognito sign-in, then temporary AWS credentials for the user's group role from the identity pool; every
 * REST call and the WebSocket connect are SigV4-signed with them (the APIs are IAM-authorized).
 */
export async function cognitoSession(c: CognitoConfig): Promise<Session> {
  const code = new URLSearchParams(location.search).get('code');
  let idToken = sessionStorage.getItem(TOKENS);
  if (code) idToken = await exchangeCode(c, code);
  if (!idToken || Number(claims(idToken).exp) * 1000 < Date.now() + 60_000) return redirectToLogin(c);
  const token = idToken;
  const groups = (claims(token)['cognito:groups'] as string[] | undefined) ?? [];
  const role: Role = groups.includes('operator') ? 'operator' : 'viewer';
  const identity = new CognitoIdentityClient({ region: c.region });
  const logins = { [`cognito-idp.${c.region}.amazonaws.com/${c.userPoolId}`]: token };
  let cached: { expires: number; signer: SignatureV4; wsSigner: SignatureV4 } | undefined;
  const signers = async () => {
    if (cached && cached.expires > Date.now() + 60_000) return cached;
    const { IdentityId } = await identity.send(
      new GetIdCommand({ IdentityPoolId: c.identityPoolId, Logins: logins }),
    );
    const { Credentials } = await identity.send(
      new GetCredentialsForIdentityCommand({ IdentityId: IdentityId!, Logins: logins }),
    );
    const credentials = {
      accessKeyId: Credentials!.AccessKeyId!,
      secretAccessKey: Credentials!.SecretKey!,
      sessionToken: Credentials!.SessionToken!,
    };
    const make = () =>
      new SignatureV4({ service: 'execute-api', region: c.region, credentials, sha256: Sha256 });
    cached = { expires: Credentials!.Expiration!.getTime(), signer: make(), wsSigner: make() };
    return cached;
  };
  return {
    user: String(claims(token).email ?? claims(token)['cognito:username'] ?? 'user'),
    role,
    async authorize(method, url, body) {
      const { signer } = await signers();
      const signed = await signer.sign(
        new HttpRequest({
          method,
          protocol: url.protocol,
          hostname: url.hostname,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: { host: url.hostname, ...(body ? { 'content-type': 'application/json' } : {}) },
          body,
        }),
      );
      const { host: _host, ...headers } = signed.headers;
      return headers;
    },
    async webSocketUrl() {
      const { wsSigner } = await signers();
      const url = new URL(c.webSocketUrl);
      const presigned = await wsSigner.presign(
        new HttpRequest({
          method: 'GET',
          protocol: 'wss:',
          hostname: url.hostname,
          path: url.pathname,
          headers: { host: url.hostname },
        }),
        { expiresIn: 300 },
      );
      return `wss://${url.hostname}${url.pathname}?${new URLSearchParams(presigned.query as Record<string, string>)}`;
    },
    signOut() {
      sessionStorage.removeItem(TOKENS);
      location.assign(
        `https://${c.loginDomain}/logout?client_id=${c.userPoolClientId}&logout_uri=${encodeURIComponent(location.origin + '/')}`,
      );
    },
  };
}
