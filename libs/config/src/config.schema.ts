import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

/** Each section is validated on its own so a bad value names the concern it belongs to. */
export class DatabaseConfig {
  @IsString()
  @Matches(/^postgres(ql)?:\/\//, { message: 'database.url must be a postgres:// URL (DATABASE_URL)' })
  url: string;

  @IsInt()
  @Min(1)
  @Max(200)
  poolSize: number;
}

export class AmqpConfig {
  @IsString()
  @Matches(/^amqps?:\/\//, { message: 'amqp.url must be an amqp:// URL (AMQP_URL)' })
  url: string;

  /** Prefix of every exchange and queue name; tests use a unique one per suite. */
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9_.-]*$/)
  namespace: string;

  @IsInt()
  @Min(1)
  @Max(5000)
  prefetch: number;

  @IsInt()
  @Min(100)
  publishTimeoutMs: number;

  /** Upper bound of messages published but not yet confirmed; beyond it the gateway sheds load with 503. */
  @IsInt()
  @Min(1)
  maxUnconfirmed: number;

  /** Retry ladder: one delay per retry; attempts = delays + 1, then the dead-letter queue. */
  @IsArray()
  @ArrayMinSize(0)
  @IsInt({ each: true })
  @Min(10, { each: true })
  retryDelaysMs: number[];

  /** Quorum-queue redelivery limit for deliveries that crash the consumer before any ack. */
  @IsInt()
  @Min(1)
  deliveryLimit: number;

  @IsInt()
  @Min(50)
  reconnectDelayMs: number;
}

export class StaticPeerKey {
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9-]{1,62}$/)
  peerId: string;

  @IsString()
  @MinLength(16)
  key: string;
}

export class GatewayConfig {
  @IsInt()
  @Min(0)
  @Max(65535)
  port: number;

  @IsString()
  host: string;

  @IsInt()
  @Min(1024)
  bodyLimitBytes: number;

  /** Until peer-auth lands: static demo keys, one per peer. Compared as SHA-256 digests. */
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => StaticPeerKey)
  peerKeys: StaticPeerKey[];
}

export class ConsoleConfig {
  @IsInt()
  @Min(0)
  @Max(65535)
  port: number;

  @IsString()
  host: string;

  @IsString()
  @MinLength(16, { message: 'console.adminToken must be at least 16 characters (ADMIN_TOKEN)' })
  adminToken: string;
}

export class ConnectorConfig {
  /** HTTP port for /health and /metrics of a connector process. */
  @IsInt()
  @Min(0)
  @Max(65535)
  port: number;

  @IsString()
  host: string;
}

export class CrmConfig {
  /** ISO 3166 region used to read national phone numbers ("8 912 …" in RU). */
  @IsString()
  @Matches(/^[A-Z]{2}$/)
  defaultRegion: string;
}

export class LogConfig {
  @IsIn(['error', 'warn', 'info', 'debug', 'verbose'])
  level: string;

  @IsOptional()
  @IsIn(['json', 'pretty'])
  format?: string;
}

export class AppConfig {
  @ValidateNested()
  @Type(() => DatabaseConfig)
  database: DatabaseConfig;

  @ValidateNested()
  @Type(() => AmqpConfig)
  amqp: AmqpConfig;

  @ValidateNested()
  @Type(() => GatewayConfig)
  gateway: GatewayConfig;

  @ValidateNested()
  @Type(() => ConsoleConfig)
  console: ConsoleConfig;

  @ValidateNested()
  @Type(() => ConnectorConfig)
  websiteConnector: ConnectorConfig;

  @ValidateNested()
  @Type(() => CrmConfig)
  crm: CrmConfig;

  @ValidateNested()
  @Type(() => LogConfig)
  log: LogConfig;
}
