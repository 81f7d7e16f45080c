import { Module } from '@nestjs/common';
import { MetricsModule } from '@switchboard/observability';
import { AccessLogWriter } from './access-log.writer';
import { OutboundHttp } from './outbound-http';

/**
 * The access log's writer and the outbound HTTP client that records every call it makes. Needs the AppConfig
 * sections 'database' and 'accessLog' (ConfigModule.forRoot / loadConfig of the importing app).
 */
@Module({
  imports: [MetricsModule],
  providers: [AccessLogWriter, OutboundHttp],
  exports: [AccessLogWriter, OutboundHttp],
})
export class AccessLogModule {}
