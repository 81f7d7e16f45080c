import { AccessLogPartitions } from '@switchboard/access-log';
import { loadConfig } from '@switchboard/config';
import { InboxPartitions, PartitionInfo, TrafficRetention } from '@switchboard/database';
import type { FlagValues } from './cli-program';

/**
 * `access-log partitions`: the day partitions (and the default one) with their row counts.
 * `access-log maintain [--now ISO] [--yes]`: one maintenance pass as the console runs it (partitions for
 * yesterday .. today + partitionsAheadDays, then retention), relative to --now when given. Retention relative to
 * a future --now deletes what is not yet expired (a year ahead: the whole log), so it needs --yes.
 */
export const ACCESS_LOG_MAINTENANCE_COMMANDS = ['partitions', 'maintain'] as const;

export function isAccessLogMaintenanceCommand(sub: string): boolean {
  return (ACCESS_LOG_MAINTENANCE_COMMANDS as readonly string[]).includes(sub);
}

export async function accessLogMaintenanceCommand(sub: string, values: FlagValues): Promise<unknown> {
  const config = loadConfig(process.env, ['database', 'accessLog', 'log']);
  const partitions = new AccessLogPartitions(config);
  try {
    switch (sub) {
      case 'partitions':
        return {
          partitions: (await partitions.list()).map((p) => ({
            name: p.name,
            from: p.from?.toISOString() ?? null,
            to: p.to?.toISOString() ?? null,
            rows: p.rows,
          })),
        };
      case 'maintain': {
        const now = passTime(values);
        return {
          now: now.toISOString(),
          ...(await partitions.maintain(now, config.accessLog.partitionsAheadDays)),
        };
      }
      default:
        throw new Error(`usage: cli access-log <${ACCESS_LOG_MAINTENANCE_COMMANDS.join('|')}> [--now ISO]`);
    }
  } finally {
    await partitions.close();
  }
}

/**
 * `inbox partitions`: the inbox's week partitions (and the default one) with their row counts.
 * `inbox maintain [--now ISO] [--yes]`: one pass over the inbox as the console runs it: partitions for yesterday
 * .. today + accessLog.partitionsAheadDays, then the days past database.idempotencyWindowDays dropped.
 */
export async function inboxMaintenanceCommand(
  sub: 'partitions' | 'maintain',
  values: FlagValues,
): Promise<unknown> {
  const config = loadConfig(process.env, ['database', 'accessLog', 'log']);
  const partitions = new InboxPartitions(config);
  try {
    if (sub === 'partitions') return { partitions: (await partitions.list()).map(listed) };
    const now = passTime(values);
    return {
      now: now.toISOString(),
      windowDays: partitions.windowDays,
      ...(await partitions.maintain(now, config.accessLog.partitionsAheadDays)),
    };
  } finally {
    await partitions.close();
  }
}

/**
 * `retention maintain [--now ISO] [--yes]`: one TrafficRetention pass as the console runs it: the settled rows of
 * the outbox, outbound deliveries, messages and one-time codes older than database.trafficRetentionDays deleted.
 */
export async function retentionCommand(values: FlagValues): Promise<unknown> {
  const config = loadConfig(process.env, ['database', 'log']);
  const retention = new TrafficRetention(config);
  try {
    const now = passTime(values);
    return {
      now: now.toISOString(),
      retentionDays: retention.retentionDays,
      deleted: await retention.applyRetention(now),
    };
  } finally {
    await retention.close();
  }
}

const listed = (p: PartitionInfo) => ({
  name: p.name,
  from: p.from?.toISOString() ?? null,
  to: p.to?.toISOString() ?? null,
  rows: p.rows,
});

/** The time of a maintenance command's pass, from its --now and --yes (maintenanceTime). */
const passTime = (values: FlagValues): Date =>
  maintenanceTime(values.now as string | undefined, (values.yes as boolean | undefined) ?? false);

/** Clock skew between hosts that still counts as "now" rather than the future. */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

/**
 * The time a maintenance pass runs as: the clock, or `--now`. A `--now` in the future is refused unless
 * confirmed (`yes`): retention as of a future day deletes rows that have not expired yet.
 */
export function maintenanceTime(nowArg: string | undefined, yes: boolean, clock: Date = new Date()): Date {
  if (nowArg === undefined) return clock;
  const now = new Date(nowArg);
  if (Number.isNaN(now.getTime())) throw new Error('--now takes an ISO 8601 date-time');
  if (now.getTime() > clock.getTime() + FUTURE_TOLERANCE_MS && !yes) {
    throw new Error(
      `--now ${now.toISOString()} is in the future: retention as of then deletes rows that have not ` +
        'expired yet (all of them, that far ahead). Add --yes to run it anyway.',
    );
  }
  return now;
}
