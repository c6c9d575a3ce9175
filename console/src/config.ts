/** /config.json: written by CDK next to the bundle on AWS, served by `npm start` locally. */
export type ConsoleConfig =
  | { auth: 'dev'; restUrl: string; webSocketUrl: string }
  | {
      auth: 'cognito';
      region: string;
      restUrl: string;
      webSocketUrl: string;
      userPoolId: string;
      userPoolClientId: string;
      loginDomain: string;
      identityPoolId: string;
    };

export type Role = 'viewer' | 'operator';

/** Who is signed in, and how requests and the WebSocket are authorized. */
export interface Session {
  user: string;
  role: Role;
  /** Signs (or decorates) a REST request. */
  authorize(method: string, url: URL, body: string | undefined): Promise<Record<string, string>>;
  /** The WebSocket URL to open, authorized. */
  webSocketUrl(): Promise<string>;
  signOut(): void;
}
