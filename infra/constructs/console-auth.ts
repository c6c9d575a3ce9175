import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AccountRecovery,
  CfnIdentityPool,
  CfnIdentityPoolRoleAttachment,
  CfnUserPoolGroup,
  Mfa,
  OAuthScope,
  UserPool,
  UserPoolClient,
  UserPoolDomain,
} from 'aws-cdk-lib/aws-cognito';
import { FederatedPrincipal, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { allowWildcards } from '../wildcard-grants.ts';

export interface ConsoleAuthProps {
  readonly stage: string;
  /** The console's address: the hosted login page sends people back here. */
  readonly siteUrl: string;
  /** Extra callback URLs (e.g. http://localhost:8080/ while developing against a deployed stack). @default none */
  readonly extraCallbackUrls?: readonly string[];
  /** Globally unique prefix of the hosted login domain. @default margin-guard-<stage>-<account> */
  readonly domainPrefix?: string;
  readonly isProd: boolean;
}

/**
 * One model for people: a Cognito user pool whose `viewer` and `operator` groups map (through an identity
 * pool, by the token's preferred role) to IAM roles. The REST and WebSocket APIs stay IAM-authorized; the
 * viewer role may only invoke GET routes, so a viewer cannot reach a write route at all.
 */
export class ConsoleAuth extends Construct {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;
  readonly domain: UserPoolDomain;
  readonly identityPool: CfnIdentityPool;
  readonly viewerRole: Role;
  readonly operatorRole: Role;

  constructor(scope: Construct, id: string, props: ConsoleAuthProps) {
    super(scope, id);
    this.userPool = new UserPool(this, 'Users', {
      userPoolName: `margin-guard-${props.stage}-console`,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      passwordPolicy: {
        minLength: 14,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { sms: false, otp: true },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      removalPolicy: props.isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.client = this.userPool.addClient('Console', {
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
        callbackUrls: [props.siteUrl, ...(props.extraCallbackUrls ?? [])],
        logoutUrls: [props.siteUrl, ...(props.extraCallbackUrls ?? [])],
      },
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
      preventUserExistenceErrors: true,
    });
    this.domain = this.userPool.addDomain('Login', {
      cognitoDomain: {
        domainPrefix: props.domainPrefix ?? `margin-guard-${props.stage}-${Stack.of(this).account}`,
      },
    });
    this.identityPool = new CfnIdentityPool(this, 'Identities', {
      identityPoolName: `margin_guard_${props.stage.replace(/-/g, '_')}_console`,
      allowUnauthenticatedIdentities: false,
      cognitoIdentityProviders: [
        { clientId: this.client.userPoolClientId, providerName: this.userPool.userPoolProviderName },
      ],
    });
    const federated = () =>
      new FederatedPrincipal(
        'cognito-identity.amazonaws.com',
        {
          StringEquals: { 'cognito-identity.amazonaws.com:aud': this.identityPool.ref },
          'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
        },
        'sts:AssumeRoleWithWebIdentity',
      );
    this.viewerRole = new Role(this, 'ViewerRole', {
      assumedBy: federated(),
      description: 'Margin Guard console viewer: reads the REST API and the live channels',
    });
    this.operatorRole = new Role(this, 'OperatorRole', {
      assumedBy: federated(),
      description: 'Margin Guard console operator: also holds, releases, deleverages, liquidates, configures',
    });
    // Signed in but in neither group: no permissions at all.
    const noAccess = new Role(this, 'NoAccessRole', {
      assumedBy: federated(),
      description: 'Margin Guard console user in no group: no access',
    });
    new CfnUserPoolGroup(this, 'ViewerGroup', {
      userPoolId: this.userPool.userPoolId,
      groupName: 'viewer',
      description: 'Reads risk, margin, history, audit trail and live channels',
      roleArn: this.viewerRole.roleArn,
      precedence: 20,
    });
    new CfnUserPoolGroup(this, 'OperatorGroup', {
      userPoolId: this.userPool.userPoolId,
      groupName: 'operator',
      description: 'Viewer rights plus manual controls (hold, deleverage, liquidate, thresholds)',
      roleArn: this.operatorRole.roleArn,
      precedence: 10,
    });
    new CfnIdentityPoolRoleAttachment(this, 'RoleMapping', {
      identityPoolId: this.identityPool.ref,
      roles: { authenticated: noAccess.roleArn },
      roleMappings: {
        console: {
          type: 'Token',
          ambiguousRoleResolution: 'Deny',
          identityProvider: `${this.userPool.userPoolProviderName}:${this.client.userPoolClientId}`,
        },
      },
    });
  }

  /**
   * The REST API names the person behind a console request: it reads the user-pool subject from the
   * request context and looks the user up (ListUsers by sub) in this pool, and in no other.
   */
  grantIdentityLookup(
    fn: { addEnvironment(k: string, v: string): unknown },
    role: { addToPrincipalPolicy(s: PolicyStatement): unknown },
  ): void {
    fn.addEnvironment('CONSOLE_USER_POOL_ID', this.userPool.userPoolId);
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['cognito-idp:ListUsers'], resources: [this.userPool.userPoolArn] }),
    );
  }

  /** execute-api permissions: viewers GET only, operators every method; both may open the WebSocket. */
  grantApi(restApiArnFor: (method: string, path: string) => string, webSocketConnectArn: string): void {
    this.viewerRole.addToPolicy(
      new PolicyStatement({
        actions: ['execute-api:Invoke'],
        resources: [restApiArnFor('GET', '/*'), webSocketConnectArn],
      }),
    );
    this.operatorRole.addToPolicy(
      new PolicyStatement({
        actions: ['execute-api:Invoke'],
        resources: [restApiArnFor('*', '/*'), webSocketConnectArn],
      }),
    );
    const api = (methods: string) =>
      new RegExp(
        `arn:<AWS::Partition>:execute-api:[^:]+:[^:]+:<ApiRestApi[A-Za-z0-9]+>\\/[^/]+\\/${methods}\\/\\*`,
      );
    allowWildcards(this.viewerRole, {
      reason:
        'Viewers may call the GET routes of the one REST API stage (every path under it), nothing else.',
      actions: ['execute-api:Invoke'],
      resources: [api('GET')],
    });
    allowWildcards(this.operatorRole, {
      reason: 'Operators may call every route of the one REST API stage.',
      actions: ['execute-api:Invoke'],
      resources: [api('\\*')],
    });
  }
}
