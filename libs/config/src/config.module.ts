import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from './config.schema';
import { ConfigSection, loadConfig } from './load-config';

/** Provides the validated AppConfig; loading throws before any module starts when config is invalid. */
@Module({})
export class ConfigModule {
  static forRoot(sections: ConfigSection[]): DynamicModule {
    return {
      module: ConfigModule,
      global: true,
      providers: [{ provide: AppConfig, useFactory: () => loadConfig(process.env, sections) }],
      exports: [AppConfig],
    };
  }
}
