import { LoggerService } from '@nestjs/common';
import { WinstonModule } from 'nest-winston';
import * as winston from 'winston';
import { Correlation } from './correlation';

const withCorrelation = winston.format((info) => {
  const ctx = Correlation.current();
  if (ctx) {
    info.correlationId = ctx.correlationId;
    if (ctx.eventId) info.eventId = ctx.eventId;
    if (ctx.peerId) info.peerId = ctx.peerId;
  }
  return info;
});

export function createWinston(app: string, level = 'info', format = 'json'): winston.Logger {
  return winston.createLogger({
    level,
    defaultMeta: { app, pid: process.pid },
    format: winston.format.combine(
      withCorrelation(),
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      format === 'pretty'
        ? winston.format.combine(winston.format.colorize(), winston.format.simple())
        : winston.format.json(),
    ),
    transports: [new winston.transports.Console()],
  });
}

/** Nest's logger, backed by winston JSON lines that carry the correlation id. */
export function createLogger(app: string, level = 'info', format = 'json'): LoggerService {
  return WinstonModule.createLogger({ instance: createWinston(app, level, format) });
}
