import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Rule } from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import type { DeployConfig } from './config.ts';
import { Alerts } from './constructs/alerts.ts';
import { Api } from './constructs/api.ts';
import { ConsoleAuth } from './constructs/console-auth.ts';
import { ConsoleSite } from './constructs/console-site.ts';
import { LiveChannels } from './constructs/live-channels.ts';
import { BrokerFeedback } from './constructs/broker-feedback.ts';
import { Ingestion } from './constructs/ingestion.ts';
import { Paging } from './constructs/paging.ts';
import { Escalation } from './constructs/escalation.ts';
import { Evaluation } from './constructs/evaluation.ts';
import { RiskEventBus } from './constructs/event-bus.ts';
import { Observability } from './constructs/observability.ts';
import { grantBandIndex, Storage } from './constructs/storage.ts';
import { applyNagSuppressions } from './nag-suppressions.ts';

/** The whole system in one stack, composed of one construct per capability. */
export class MarginGuardStack extends Stack {
  readonly storage: Storage;
  readonly events: RiskEventBus;
  readonly evaluation: Evaluation;
  readonly observability: Observability;
  readonly alerts: Alerts;
  readonly escalation: Escalation;
  readonly api: Api;
  readonly paging: Paging;
  readonly brokerFeedback: BrokerFeedback;
  readonly ingestion: Ingestion;
  readonly consoleSite: ConsoleSite;
  readonly consoleAuth: ConsoleAuth;
  readonly live: LiveChannels;

  constructor(scope: Construct, id: string, config: DeployConfig, props?: StackProps) {
    super(scope, id, props);
    this.storage = new Storage(this, 'Storage', config);
    this.events = new RiskEventBus(this, 'Events', config.stage);
    this.evaluation = new Evaluation(this, 'Evaluation', {
      config,
      tables: this.storage.tables,
      bandTables: this.storage.bandTables,
      bus: this.events.bus,
      key: this.storage.key,
    });
    this.alerts = new Alerts(this, 'Alerts', {
      stage: config.stage,
      key: this.storage.key,
      alertSubscriptions: config.alertSubscriptions,
      pageSubscriptions: config.pageSubscriptions,
      webhookSecretName: config.webhookSecretName,
      logRetentionDays: config.logRetentionDays,
      deadLetterQueue: this.evaluation.deadLetterQueue,
    });
    const environment = this.evaluation.environment;
    this.paging = new Paging(this, 'Paging', {
      stage: config.stage,
      tables: this.storage.tables,
      environment,
      alerts: this.alerts.alerts,
      pages: this.alerts.pages,
      deadLetterQueue: this.evaluation.deadLetterQueue,
      logRetentionDays: config.logRetentionDays,
      notificationPolicySecretName: config.notificationPolicySecretName,
      telegramSecretName: config.telegramSecretName,
      notificationSender: config.notificationSender,
      notificationSenderIdentities: config.notificationSenderIdentities,
      webhookSecretName: config.webhookSecretName,
    });
    this.escalation = new Escalation(this, 'Escalation', {
      config,
      tables: this.storage.tables,
      bus: this.events.bus,
      key: this.storage.key,
      alerts: this.alerts.alerts,
      pages: this.alerts.pages,
      evaluationEnvironment: environment,
      deadLetterQueue: this.evaluation.deadLetterQueue,
    });
    this.api = new Api(this, 'Api', {
      config,
      tables: this.storage.tables,
      bandTables: this.storage.bandTables,
      bus: this.events.bus,
      environment: {
        ...environment,
        ACK_SECRET_NAME: this.paging.ackSecret.secretArn,
        // Manual actions are notified through the policy; GET /notifications shows its default until one is stored.
        ...this.paging.environment,
      },
    });
    this.paging.ackSecret.grantRead(this.api.handler.role);
    // The escalation dispatches notifications: the policy's routes, the topics, and the on-call ladder.
    const steps = this.escalation.steps;
    // Its re-checks evaluate, and an evaluation rewrites bands: every stripe of the band index.
    grantBandIndex(this.storage.bandTables.slice(1), steps.role, 'readWrite');
    for (const [k, v] of Object.entries(this.paging.environment)) steps.fn.addEnvironment(k, v);
    steps.fn.addEnvironment('PAGING_STATE_MACHINE_ARN', this.paging.stateMachine.stateMachineArn);
    this.paging.stateMachine.grantStartExecution(steps.role);
    this.paging.grantDispatch(steps);
    this.paging.grantDispatch(this.api.handler);
    this.brokerFeedback = new BrokerFeedback(this, 'BrokerFeedback', {
      tables: this.storage.tables,
      bus: this.events.bus,
      environment,
      deadLetterQueue: this.evaluation.deadLetterQueue,
      targetDeadLetterQueue: this.events.targetDeadLetterQueue,
      paging: this.paging,
      logRetentionDays: config.logRetentionDays,
    });
    // The broker's account, cash, position and price updates from the bus (docs/ingestion.md).
    this.ingestion = new Ingestion(this, 'Ingestion', {
      tables: this.storage.tables,
      bus: this.events.bus,
      environment,
      deadLetterQueue: this.evaluation.deadLetterQueue,
      targetDeadLetterQueue: this.events.targetDeadLetterQueue,
      logRetentionDays: config.logRetentionDays,
    });
    // Not the API's own handler: its environment cannot name its own URL (a cycle); it sends no pages.
    this.paging.setAckBaseUrl(`${this.api.api.url}ack`, steps, this.brokerFeedback.handler);
    // The operator console: site, people's sign-in (viewer/operator roles), live channels.
    this.consoleSite = new ConsoleSite(this, 'ConsoleSite', { isProd: config.isProd });
    this.consoleAuth = new ConsoleAuth(this, 'ConsoleAuth', {
      stage: config.stage,
      siteUrl: this.consoleSite.url,
      extraCallbackUrls: config.consoleCallbackUrls,
      domainPrefix: config.consoleDomainPrefix,
      isProd: config.isProd,
    });
    this.consoleAuth.grantIdentityLookup(this.api.handler.fn, this.api.handler.role);
    this.live = new LiveChannels(this, 'Live', {
      stage: config.stage,
      tables: this.storage.tables,
      bus: this.events.bus,
      environment,
      deadLetterQueue: this.evaluation.deadLetterQueue,
      targetDeadLetterQueue: this.events.targetDeadLetterQueue,
      logRetentionDays: config.logRetentionDays,
      viewerRoleName: this.consoleAuth.viewerRole.roleName,
      operatorRoleName: this.consoleAuth.operatorRole.roleName,
    });
    this.consoleAuth.grantApi(
      (method, path) => this.api.api.arnForExecuteApi(method, path, config.stage),
      this.live.connectArn,
    );
    this.consoleSite.deploy({
      auth: 'cognito',
      region: this.region,
      restUrl: this.api.api.url,
      webSocketUrl: this.live.stage.url,
      userPoolId: this.consoleAuth.userPool.userPoolId,
      userPoolClientId: this.consoleAuth.client.userPoolClientId,
      loginDomain: `${this.consoleAuth.domain.domainName}.auth.${this.region}.amazoncognito.com`,
      identityPoolId: this.consoleAuth.identityPool.ref,
    });
    new CfnOutput(this, 'ConsoleUrl', { value: this.consoleSite.url, description: 'Operator console' });
    new CfnOutput(this, 'WebSocketUrl', { value: this.live.stage.url, description: 'Console live channels' });
    new CfnOutput(this, 'ConsoleUserPoolId', {
      value: this.consoleAuth.userPool.userPoolId,
      description: 'Add people here, in the viewer or operator group',
    });
    const fns = this.evaluation.functions;
    const forwarder = this.alerts.forwarder ? [this.alerts.forwarder] : [];
    this.observability = new Observability(this, 'Observability', {
      stage: config.stage,
      key: this.storage.key,
      alarmEmail: config.alarmEmail,
      streamFunctions: [fns.positionStream, fns.priceStream],
      functions: [
        ...Object.values(fns),
        this.escalation.steps,
        this.escalation.starter,
        this.escalation.waker,
        this.api.handler,
        this.api.summary,
        this.paging.steps,
        this.paging.sms,
        this.brokerFeedback.handler,
        this.ingestion.handler,
        ...this.live.functions,
      ],
      deadLetterQueues: [
        this.evaluation.deadLetterQueue,
        this.evaluation.workDeadLetterQueue,
        this.evaluation.coalescedDeadLetterQueue,
        this.escalation.startDeadLetterQueue,
        this.events.targetDeadLetterQueue,
      ],
      workQueue: this.evaluation.workQueue,
      coalescedQueue: this.evaluation.coalescedQueue,
      stateMachines: [this.escalation.stateMachine, this.paging.stateMachine],
      // Every rule's deliveries, and every asynchronously invoked function's dropped events.
      rules: this.node.findAll().filter((c): c is Rule => c instanceof Rule),
      asyncFunctions: [
        this.brokerFeedback.handler,
        this.ingestion.handler,
        this.escalation.waker,
        this.live.broadcaster,
        this.paging.steps,
        this.api.summary,
        fns.watch,
        fns.sweep,
        ...forwarder,
      ],
      destinationFunctions: [
        this.brokerFeedback.handler,
        this.ingestion.handler,
        this.escalation.waker,
        this.live.broadcaster,
        ...forwarder,
      ],
    });
    this.escalation.alarmOnLateStarts(new SnsAction(this.observability.opsTopic));
    this.paging.reportFailuresTo(this.observability.opsTopic);
    applyNagSuppressions(this, {
      restApi: this.api.api,
      webSocketApi: this.live.api,
      ackSecret: this.paging.ackSecret,
      distribution: this.consoleSite.distribution,
      userPool: this.consoleAuth.userPool,
      deadLetterQueues: [
        this.evaluation.deadLetterQueue,
        this.evaluation.workDeadLetterQueue,
        this.evaluation.coalescedDeadLetterQueue,
        this.escalation.startDeadLetterQueue,
        this.events.targetDeadLetterQueue,
      ],
    });
  }
}
