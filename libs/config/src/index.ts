export * from './config.schema';
export { loadConfig, ConfigError, ENV_OVERRIDES, ALL_SECTIONS, appPortOverrides } from './load-config';
export { appManifest, appEntry } from './app-manifest';
export type { AppManifestEntry } from './app-manifest';
export type { ConfigSection } from './load-config';
export { ConfigModule } from './config.module';
export { applyLocalDemoDefaults, DEMO_FILE } from './local-demo';
export * from './clock';
