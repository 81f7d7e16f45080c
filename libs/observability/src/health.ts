import { Controller, DynamicModule, Get, Inject, Module, Type } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckError,
  HealthCheckService,
  HealthIndicatorFunction,
  TerminusModule,
} from '@nestjs/terminus';

/** Something that can say whether a dependency is usable right now (DB, broker, ...). */
export interface ReadinessProbe {
  readonly name: string;
  check(): Promise<boolean>;
}
export const READINESS_PROBES = Symbol('READINESS_PROBES');

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    @Inject(READINESS_PROBES) private readonly probes: ReadinessProbe[],
  ) {}

  /** Liveness: the process answers. Never depends on other systems (a DB outage must not restart us). */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Readiness: every dependency this app needs is reachable. */
  @Get()
  @HealthCheck()
  ready() {
    return this.health.check(this.probes.map((p) => this.indicator(p)));
  }

  @Get('ready')
  @HealthCheck()
  readyAlias() {
    return this.ready();
  }

  private indicator(probe: ReadinessProbe): HealthIndicatorFunction {
    return async () => {
      const up = await probe.check().catch(() => false);
      const result = { [probe.name]: { status: up ? 'up' : 'down' } } as const;
      if (!up) throw new HealthCheckError(`${probe.name} is down`, result);
      return result;
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
