export * from './config.schema';
export { loadConfig, ConfigError, ENV_OVERRIDES } from './load-config';
export { ConfigModule } from './config.module';
