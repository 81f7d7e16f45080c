import { Logger } from '@nestjs/common';
import type { Alert } from './alert-rules';
import type { AlertSink } from './alert-sinks';
import type { NotificationKind } from './alert-store';

/** The notification an alert still owes its sinks, if any. */
export function pendingKind(a: Alert): NotificationKind | null {
  if (a.status === 'firing' && !a.firedNotifiedAt) return 'firing';
  if (a.status === 'resolved' && !a.resolvedNotifiedAt) return 'resolved';
  return null;
}

export interface DeliveryReport {
  delivered: Array<{ id: string; kind: NotificationKind }>;
  failed: Array<{ id: string; kind: NotificationKind; sink: string; error: string }>;
}

/**
 * Delivers what alerts owe their sinks. A notification counts as sent (markNotified, which sets
 * fired_notified_at / resolved_notified_at) only once every sink accepted it; until then it is retried every
 * round. A sink that already accepted it is not sent it again (remembered in memory until the notification is
 * complete), and a sink that failed is not tried again in the same round, so an outage costs one timeout per
 * round, not one per alert.
 */
export class AlertNotifier {
  private readonly logger = new Logger('Alerts');
  private readonly accepted = new Map<string, Set<string>>();

  constructor(readonly sinks: AlertSink[]) {}

  async deliver(
    pending: Alert[],
    markNotified: (id: string, kind: NotificationKind) => Promise<void>,
  ): Promise<DeliveryReport> {
    const report: DeliveryReport = { delivered: [], failed: [] };
    const down = new Set<string>();
    for (const alert of pending) {
      const kind = pendingKind(alert);
      if (!kind) continue;
      const key = `${alert.id}:${kind}`;
      const done = this.accepted.get(key) ?? new Set<string>();
      this.accepted.set(key, done);
      for (const sink of this.sinks) {
        if (done.has(sink.name) || down.has(sink.name)) continue;
        try {
          await sink.send(kind, alert);
          done.add(sink.name);
        } catch (err) {
          down.add(sink.name);
          const error = (err as Error).message;
          report.failed.push({ id: alert.id, kind, sink: sink.name, error });
          this.logger.warn({
            message: `alert ${kind} notification to ${sink.name} failed, retrying next round: ${error}`,
            event: 'alert.notify_failed',
            alertId: alert.id,
            rule: alert.rule,
            subject: alert.subject,
            sink: sink.name,
          });
        }
      }
      if (this.sinks.every((s) => done.has(s.name))) {
        await markNotified(alert.id, kind);
        this.accepted.delete(key);
        report.delivered.push({ id: alert.id, kind });
      }
    }
    return report;
  }
}
