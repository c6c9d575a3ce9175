import { Duration, Stack } from 'aws-cdk-lib';
import { CfnStage, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, type IEventBus } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '../../shared/events/schemas.ts';
import type { TableKey } from '../../functions/lib/table-definitions.ts';
import { allowWildcards } from '../wildcard-grants.ts';
import { MarginGuardFunction } from './lambda-function.ts';

export interface LiveChannelsProps {
  readonly stage: string;
  readonly tables: Record<TableKey, ITable>;
  readonly bus: IEventBus;
  readonly environment: Record<string, string>;
  readonly deadLetterQueue: IQueue;
  /**
   * Bus events the bus could not hand to the broadcaster, or that still failed after Lambda's retries
   * (SQS-managed encryption: EventBridge must be able to write it).
   */
  readonly targetDeadLetterQueue: IQueue;
  readonly logRetentionDays: number;
  /** Names of the console's IAM roles: a connection's console role comes from the caller's role. */
  readonly viewerRoleName: string;
  readonly operatorRoleName: string;
}

/**
 * The console's live channels: an IAM-authorized WebSocket API (connect, subscribe, disconnect) and a
 * broadcaster fed by every event on the bus and by the risk-state and actions streams. Broadcasting is an
 * asynchronous rule target with its own retries and dead-letter queue: a slow browser never slows the bus.
 */
export class LiveChannels extends Construct {
  readonly api: WebSocketApi;
  readonly stage: WebSocketStage;
  readonly connectArn: string;
  readonly functions: MarginGuardFunction[];
  /** The bus's asynchronous target (its dropped events are alarmed). */
  readonly broadcaster: MarginGuardFunction;

  constructor(scope: Construct, id: string, props: LiveChannelsProps) {
    super(scope, id);
    const { tables } = props;
    const connections = new MarginGuardFunction(this, 'Connections', {
      name: 'websocket',
      description: 'Console WebSocket: connect, subscribe, disconnect',
      environment: {
        ...props.environment,
        VIEWER_ROLE_NAME: props.viewerRoleName,
        OPERATOR_ROLE_NAME: props.operatorRoleName,
      },
      timeout: Duration.seconds(10),
      memorySize: 256,
      logRetentionDays: props.logRetentionDays,
    });
    tables.connections.grantReadWriteData(connections.role);

    const integration = new WebSocketLambdaIntegration('Connections', connections.fn);
    this.api = new WebSocketApi(this, 'Api', {
      apiName: `margin-guard-${props.stage}-live`,
      description: 'Margin Guard console channels: risk-status, margin-updates, alerts, actions',
      connectRouteOptions: { integration, authorizer: new WebSocketIamAuthorizer() },
      disconnectRouteOptions: { integration },
      routeSelectionExpression: '$request.body.action',
    });
    // The handler's reply ({type: 'subscribed'} or a 400 naming the field) goes back to the client.
    this.api.addRoute('subscribe', { integration, returnResponse: true });
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stage,
      autoDeploy: true,
      throttle: { rateLimit: 50, burstLimit: 100 },
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH });
    (this.stage.node.defaultChild as CfnStage).accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        connectionId: '$context.connectionId',
        routeKey: '$context.routeKey',
        eventType: '$context.eventType',
        status: '$context.status',
        caller: '$context.identity.userArn',
        time: '$context.requestTime',
      }),
    };
    this.connectArn = Stack.of(this).formatArn({
      service: 'execute-api',
      resource: this.api.apiId,
      resourceName: `${props.stage}/$connect`,
    });

    const broadcaster = (this.broadcaster = new MarginGuardFunction(this, 'Broadcaster', {
      name: 'broadcaster',
      description: 'Sends bus events, margin updates and audit entries to subscribed console connections',
      environment: { ...props.environment, WEBSOCKET_CALLBACK_URL: this.stage.callbackUrl },
      timeout: Duration.seconds(30),
      memorySize: 512,
      logRetentionDays: props.logRetentionDays,
    }));
    this.functions = [connections, broadcaster];
    tables.connections.grantReadWriteData(broadcaster.role);
    this.stage.grantManagementApiAccess(broadcaster.role);
    allowWildcards(broadcaster.role, {
      reason:
        'The broadcaster posts to any connection of the one WebSocket stage (connection ids are not known in advance).',
      actions: ['execute-api:ManageConnections'],
      resources: [
        /arn:<AWS::Partition>:execute-api:[^:]+:[^:]+:<LiveApi[A-Za-z0-9]+>\/[^/]+\/\*\/@connections\/\*/,
      ],
    });
    props.deadLetterQueue.grantSendMessages(broadcaster.role);
    // A console message is worth little after five minutes; one that kept failing is kept, not dropped.
    broadcaster.fn.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.minutes(5),
      onFailure: new SqsDestination(props.targetDeadLetterQueue),
    });
    new Rule(this, 'BusToConsole', {
      description: 'Every Margin Guard event to the console broadcaster',
      eventBus: props.bus,
      eventPattern: { source: [EVENT_SOURCE] },
      targets: [
        new LambdaFunction(broadcaster.fn, {
          retryAttempts: 2,
          maxEventAge: Duration.minutes(5),
          deadLetterQueue: props.targetDeadLetterQueue,
        }),
      ],
    });
    for (const table of [tables.riskState, tables.actions])
      broadcaster.addStreamSource(
        new DynamoEventSource(table, {
          startingPosition: StartingPosition.LATEST,
          batchSize: 100,
          maxBatchingWindow: Duration.seconds(1),
          bisectBatchOnError: true,
          retryAttempts: 2,
          maxRecordAge: Duration.minutes(5),
          onFailure: new SqsDlq(props.deadLetterQueue),
        }),
      );
  }
}
