import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { DataSource } from 'typeorm';
import {
  authFailureFacts,
  deadLetterFacts,
  errorRateFacts,
  expiringCredentialFacts,
  Query,
  silentPeerFacts,
  rotationFacts,
  unassignedLeadFacts,
  overdueTaskFacts,
  pausedEndpointFacts,
  adminTokenUseFacts,
} from './alert-facts';
import { AlertNotifier, DeliveryReport } from './alert-notifier';
import {
  Alert,
  ALERT_RULES,
  AlertCondition,
  AlertRule,
  authFailureConditions,
  credentialExpiringConditions,
  deadLetterConditions,
  errorRateConditions,
  peerSilentConditions,
  credentialRotatedConditions,
  unassignedLeadConditions,
  overdueTaskConditions,
  adminTokenUseConditions,
  planTransitions,
  ruleEnabled,
  outboundEndpointPausedConditions,
  RuleSettings,
} from './alert-rules';
import { AlertStore } from './alert-store';

/** Arbitrary but fixed (next to the migration lock): one console replica evaluates at a time. */
export const ALERTS_LOCK = 7_263_104_002;
/** How long shutdown waits for a round in progress. */
const SHUTDOWN_WAIT_MS = 5000;

export type RoundResult =
  | { ran: false; reason: string }
  | {
      ran: true;
      at: string;
      /** Rules that could not be evaluated this round; their firing alerts were left as they are. */
      skipped: Array<{ rule: AlertRule; error: string }>;
      fired: Alert[];
      resolved: Alert[];
      stillFiring: number;
      notifications: DeliveryReport;
    };

type Gather = (q: Query, now: Date, s: RuleSettings) => Promise<AlertCondition[]>;

/**
 * Evaluates the alert rules every alerts.evaluateIntervalSeconds (and on demand): current conditions -> new
 * firing alerts, resolved ones, then the notifications the sinks are owed. Rounds never overlap in a process,
 * and a session advisory lock keeps other console replicas out while one runs.
 */
@Injectable()
export class AlertEvaluator implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Alerts');
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private busy = false;
  private readonly gatherers: Record<AlertRule, Gather>;

  constructor(
    private readonly ds: DataSource,
    private readonly config: AppConfig,
    private readonly notifier: AlertNotifier,
  ) {
    const amqp = config.amqp;
    this.gatherers = {
      authFailures: async (q, now, s) => authFailureConditions(await authFailureFacts(q, now, s), s),
      errorRate: async (q, now, s) => errorRateConditions(await errorRateFacts(q, now, s), s),
      deadLetters: async (_q, _now, s) =>
        deadLetterConditions(await deadLetterFacts(amqp.url, amqp.namespace), s),
      credentialExpiring: async (q, now, s) =>
        credentialExpiringConditions(await expiringCredentialFacts(q, now, s), s, now),
      peerSilent: async (q, now, s) => peerSilentConditions(await silentPeerFacts(q, now, s), s, now),
      credentialRotated: async (q, now, s) => credentialRotatedConditions(await rotationFacts(q, now, s), s),
      unassignedLeads: async (q, now, s) => unassignedLeadConditions(await unassignedLeadFacts(q, now, s), s),
      overdueTasks: async (q, now, s) => overdueTaskConditions(await overdueTaskFacts(q, now), s),
      outboundEndpointPaused: async (q, _now, s) =>
        outboundEndpointPausedConditions(await pausedEndpointFacts(q), s),
      adminTokenUsed: async (q, now, s) => adminTokenUseConditions(await adminTokenUseFacts(q, now, s), s),
    };
  }

  onModuleInit(): void {
    this.timer = setInterval(() => this.tick(), this.config.alerts.evaluateIntervalSeconds * 1000);
    this.timer.unref();
  }

  /** Stops the timer and lets a round in progress finish (briefly) while the database is still there. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stop();
    let t: NodeJS.Timeout | undefined;
    await Promise.race([this.chain, new Promise((r) => (t = setTimeout(r, SHUTDOWN_WAIT_MS)))]);
    clearTimeout(t);
  }

  onApplicationShutdown(): void {
    this.stop();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Timer: skips a beat while a round is still running. */
  private tick(): void {
    if (this.busy) return;
    this.evaluate().catch((err: Error) => this.logger.warn(`alert evaluation failed: ${err.message}`));
  }

  /** One round now, after any round in progress (POST /v1/admin/alerts/evaluate). */
  evaluate(): Promise<RoundResult> {
    const run = this.chain.then(async () => {
      this.busy = true;
      try {
        return await this.locked();
      } finally {
        this.busy = false;
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async locked(): Promise<RoundResult> {
    const runner = this.ds.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [
        ALERTS_LOCK,
      ])) as [{ locked: boolean }];
      if (!locked) return { ran: false, reason: 'another console replica is evaluating alerts' };
      try {
        // Structured results: TypeORM hands UPDATE ... RETURNING back as [rows, count] otherwise.
        return await this.round(
          async (sql, params) => (await runner.query(sql, params, true)).records as unknown,
        );
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [ALERTS_LOCK]).catch(() => undefined);
      }
    } finally {
      await runner.release();
    }
  }

  private async round(q: Query): Promise<RoundResult> {
    const settings = this.config.alerts;
    const [{ now }] = (await q('SELECT now() AS now')) as [{ now: Date }];

    const current: AlertCondition[] = [];
    const evaluated = new Set<string>();
    const skipped: Array<{ rule: AlertRule; error: string }> = [];
    for (const rule of ALERT_RULES) {
      // A disabled rule holds nothing, so alerts it raised before it was switched off resolve.
      if (!ruleEnabled(rule, settings)) {
        evaluated.add(rule);
        continue;
      }
      try {
        current.push(...(await this.gatherers[rule](q, now, settings)));
        evaluated.add(rule);
      } catch (err) {
        const error = (err as Error).message;
        skipped.push({ rule, error });
        this.logger.warn({
          message: `alert rule ${rule} skipped this round (its alerts stay as they are): ${error}`,
          event: 'alert.rule_skipped',
          rule,
        });
      }
    }

    const plan = planTransitions(current, await AlertStore.firing(q), evaluated);
    const fired: Alert[] = [];
    for (const c of plan.fire) {
      const { alert, inserted } = await AlertStore.fire(q, c);
      if (!inserted) continue;
      fired.push(alert);
      this.logger.warn({
        message: `alert firing: ${alert.summary}`,
        event: 'alert.firing',
        alertId: alert.id,
        rule: alert.rule,
        subject: alert.subject,
        details: alert.details,
      });
    }
    for (const { alert, condition } of plan.keep) await AlertStore.touch(q, alert.id, condition);
    const resolved = await AlertStore.resolve(
      q,
      plan.resolve.map((a) => a.id),
    );
    for (const alert of resolved) {
      this.logger.log({
        message: `alert resolved: ${alert.summary}`,
        event: 'alert.resolved',
        alertId: alert.id,
        rule: alert.rule,
        subject: alert.subject,
      });
    }

    const notifications = await this.notifier.deliver(await AlertStore.pendingNotifications(q), (id, kind) =>
      AlertStore.markNotified(q, id, kind),
    );
    return {
      ran: true,
      at: now.toISOString(),
      skipped,
      fired,
      resolved,
      stillFiring: plan.keep.length,
      notifications,
    };
  }
}
