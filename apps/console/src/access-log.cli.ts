import { AccessLogPartitions } from '@switchboard/access-log';
import { loadConfig } from '@switchboard/config';
import type { FlagValues } from './cli-program';

/**
 * `access-log partitions`: the day partitions (and the default one) with their row counts.
 * `access-log maintain [--now ISO]`: one maintenance pass as the console runs it (partitions for yesterday ..
 * today + partitionsAheadDays, then retention), relative to --now when given.
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
        const now = typeof values.now === 'string' ? new Date(values.now) : new Date();
        if (Number.isNaN(now.getTime())) throw new Error('--now takes an ISO 8601 date-time');
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
