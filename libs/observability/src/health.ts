import { Controller, DynamicModule, Get, Inject, Module, Type } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorFunction,
  HealthIndicatorService,
  TerminusModule,
} from '@nestjs/terminus';

/** Something that can say whether a dependency is usable right now (DB, broker, ...). */
export interface ReadinessProbe {
  readonly name: string;
  check(): Promise<boolean>;
}
export const READINESS_PROBES = Symbol('READINESS_PROBES');

/** The runtime this process runs on, shown in `/health` details and start-up banners. */
export function runtimeVersion(): { node: string; platform: string } {
  return { node: process.versions.node, platform: `${process.platform}-${process.arch}` };
}

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(READINESS_PROBES) private readonly probes: ReadinessProbe[],
  ) {}

  /** Liveness: the process answers. Never depends on other systems (a DB outage must not restart us). */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([this.runtime()]);
  }

  /** Readiness: every dependency this app needs is reachable. */
  @Get()
  @HealthCheck()
  ready() {
    return this.health.check([this.runtime(), ...this.probes.map((p) => this.indicator(p))]);
  }

  @Get('ready')
  @HealthCheck()
  readyAlias() {
    return this.ready();
  }

  /** Always up: tells an operator which Node runs this process (`details.runtime.node`). */
  private runtime(): HealthIndicatorFunction {
    return () => this.indicators.check('runtime').up(runtimeVersion());
  }

  /** A down probe makes the whole check 503 with `error.<name>.status = "down"`; nothing is thrown. */
  private indicator(probe: ReadinessProbe): HealthIndicatorFunction {
    return async () => {
      const session = this.indicators.check(probe.name);
      const up = await probe.check().catch(() => false);
      return up ? session.up() : session.down({ message: `${probe.name} is down` });
    };
  }
}

@Module({})
export class HealthModule {
  /** probes: provider classes implementing ReadinessProbe, resolved from the importing app. */
  static forProbes(probes: Type<ReadinessProbe>[]): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [
        {
          provide: READINESS_PROBES,
          useFactory: (...instances: ReadinessProbe[]) => instances,
          inject: probes,
        },
      ],
    };
  }
}
