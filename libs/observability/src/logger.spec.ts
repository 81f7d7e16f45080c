import * as winston from 'winston';
import Transport from 'winston-transport';
import { LevelGatedLogger } from './logger';

/** A winston logger at `level` whose formatting is counted and whose output is kept. */
function counted(level: string) {
  const seen = { formatted: 0, written: [] as Array<{ level: string; message: unknown; context?: unknown }> };
  class Keep extends Transport {
    log(info: { level: string; message: unknown; context?: unknown }, next: () => void) {
      seen.written.push({ level: info.level, message: info.message, context: info.context });
      next();
    }
  }
  const logger = winston.createLogger({
    level,
    format: winston.format((info) => {
      seen.formatted++;
      return info;
    })(),
    transports: [new Keep()],
  });
  return { logger, seen };
}

describe('LevelGatedLogger', () => {
  it('does no formatting for a disabled level, and logs enabled ones as nest-winston does', () => {
    const { logger, seen } = counted('info');
    const log = new LevelGatedLogger(logger);
    for (let i = 0; i < 100; i++) {
      log.debug(`order ${i}: created`, 'OrderProjector');
      log.verbose('noise', 'OrderProjector');
    }
    expect(seen.formatted).toBe(0);
    log.log('listening', 'Bootstrap');
    log.warn('slow', 'Inbox');
    log.error('failed', undefined, 'Inbox');
    log.fatal('down', 'Main');
    expect(seen.written.map((w) => [w.level, w.message, w.context])).toEqual([
      ['info', 'listening', 'Bootstrap'],
      ['warn', 'slow', 'Inbox'],
      ['error', 'failed', 'Inbox'],
      ['error', 'down', 'Main'], // fatal: winston's levels have none
    ]);
  });

  it('passes debug through when the level allows it, and an object message keeps its own level', () => {
    const { logger, seen } = counted('debug');
    const log = new LevelGatedLogger(logger);
    log.debug('order 1: created', 'OrderProjector');
    const quiet = counted('warn');
    new LevelGatedLogger(quiet.logger).log({ level: 'warn', message: 'from an object' });
    expect(seen.written).toEqual([
      { level: 'debug', message: 'order 1: created', context: 'OrderProjector' },
    ]);
    expect(quiet.seen.written).toEqual([{ level: 'warn', message: 'from an object', context: undefined }]);
  });
});
