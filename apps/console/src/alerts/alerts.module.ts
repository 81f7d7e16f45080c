import { Module, Provider } from '@nestjs/common';
import { AccessLogModule, AccessLogWriter, OutboundHttp } from '@switchboard/access-log';
import { AppConfig, ConfigError } from '@switchboard/config';
import { AlertEvaluator } from './alert-evaluator';
import { AlertNotifier } from './alert-notifier';
import {
  AlertSink,
  OutboundFetch,
  sinkConfigProblems,
  SmtpCallRecorder,
  SmtpSink,
  WebhookSink,
} from './alert-sinks';
import { smtpMailer } from '../mail/mailer';
import { AlertsController } from './alerts.controller';

export const ALERTS_HTTP = Symbol('ALERTS_HTTP');

/** Builds the configured sinks; refuses a webhook without a proper secret (main.ts checks before start too). */
export function createNotifier(
  config: AppConfig,
  http: OutboundFetch,
  recordSmtp: SmtpCallRecorder = () => undefined,
): AlertNotifier {
  const problems = sinkConfigProblems(config.alerts);
  if (problems.length) throw new ConfigError(problems);
  const sinks: AlertSink[] = [];
  if (config.alerts.webhookUrl)
    sinks.push(new WebhookSink(config.alerts.webhookUrl, config.alerts.webhookSecret, http));
  if (config.alerts.smtp.host)
    sinks.push(new SmtpSink(config.alerts.smtp, smtpMailer(config.alerts.smtp), recordSmtp));
  return new AlertNotifier(sinks);
}

/** Every SMTP exchange is an outbound interface call too (service alerts.smtp). */
export const smtpRecorder =
  (writer: AccessLogWriter): SmtpCallRecorder =>
  (call) =>
    writer.record({
      direction: 'outbound',
      peerId: null,
      service: 'alerts.smtp',
      method: 'SMTP',
      startedAt: call.startedAt,
      durationMs: call.durationMs,
      result: call.ok ? 'accepted' : 'failed',
      httpStatus: null,
      errorCode: call.ok ? null : 'OUTBOUND_SMTP_FAILED',
      eventId: null,
      clientIp: null,
      bytesIn: null,
      bytesOut: call.bytesOut,
      correlationId: null,
      bodyHash: null,
      body: null,
    });

const NotifierProvider: Provider = {
  provide: AlertNotifier,
  inject: [AppConfig, ALERTS_HTTP, AccessLogWriter],
  useFactory: (config: AppConfig, http: OutboundFetch, writer: AccessLogWriter) =>
    createNotifier(config, http, smtpRecorder(writer)),
};

/** Webhook deliveries go through OutboundHttp, so each appears in the access log with direction outbound. */
const HttpProvider: Provider = { provide: ALERTS_HTTP, useExisting: OutboundHttp };

/** Alert rules, their evaluation, the sinks, and the console API over them. Needs the alerts, amqp, accessLog config. */
@Module({
  imports: [AccessLogModule],
  controllers: [AlertsController],
  providers: [HttpProvider, NotifierProvider, AlertEvaluator],
  exports: [AlertEvaluator],
})
export class AlertsModule {}
