export * from './config.schema';
export { loadConfig, ConfigError, ENV_OVERRIDES, ALL_SECTIONS } from './load-config';
export type { ConfigSection } from './load-config';
export { ConfigModule } from './config.module';
export { applyLocalDemoDefaults, DEMO_FILE } from './local-demo';
export * from './clock';
