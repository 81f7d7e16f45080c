import {
  Controller,
  DynamicModule,
  Get,
  Inject,
  Injectable,
  Module,
  OnApplicationShutdown,
  Res,
  Type,
} from '@nestjs/common';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Metrics, MetricsController, MetricsModule } from './metrics';

/** Something that can say whether a dependency is usable right now (DB, broker, ...). */
export interface ReadinessProbe {
  readonly name: string;
  check(): Promise<boolean>;
}
export const READINESS_PROBES = Symbol('READINESS_PROBES');

export interface HealthReport {
  status: 'ok' | 'error';
  /** Each dependency's state; served only on the metrics listener (it names what this app depends on). */
  details: Record<string, { status: 'up' | 'down'; node?: string; platform?: string }>;
}

/** The runtime this process runs on, shown in `/health` details and start-up banners. */
export function runtimeVersion(): { node: string; platform: string } {
  return { node: process.versions.node, platform: `${process.platform}-${process.arch}` };
}

/** Minimal reply interface shared by Fastify replies (status code for the answer). */
interface StatusReply {
  status(code: number): unknown;
}

@Injectable()
export class HealthReporter {
  constructor(@Inject(READINESS_PROBES) private readonly probes: ReadinessProbe[]) {}

  /** Readiness: every dependency this app needs is reachable. */
  async report(): Promise<HealthReport> {
    const states = await Promise.all(
      this.probes.map(async (p) => [p.name, await p.check().catch(() => false)] as const),
    );
    return {
      status: states.every(([, up]) => up) ? 'ok' : 'error',
      details: {
        // Always up: tells an operator which Node runs this process (`details.runtime.node`).
        runtime: { status: 'up', ...runtimeVersion() },
        ...Object.fromEntries(states.map(([name, up]) => [name, { status: up ? 'up' : 'down' } as const])),
      },
    };
  }
}

const LIVE = { status: 'ok' } as const;

/**
 * The public /health: 200 `{"status":"ok"}` or 503 `{"status":"error"}` and nothing else, since anyone can
 * reach it. Which dependency is down is on the metrics listener.
 */
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthReporter) {}

  /** Liveness: the process answers. Never depends on other systems (a DB outage must not restart us). */
  @Get('live')
  live() {
    return LIVE;
  }

  @Get(['', 'ready'])
  async ready(@Res({ passthrough: true }) reply: StatusReply) {
    const { status } = await this.health.report();
    reply.status(status === 'ok' ? 200 : 503);
    return { status };
  }
}

/** /health with each dependency's state: connectors' listener, which is only ever a metrics listener. */
@Controller('health')
export class DetailedHealthController {
  constructor(private readonly health: HealthReporter) {}

  @Get('live')
  live() {
    return LIVE;
  }

  @Get(['', 'ready'])
  async ready(@Res({ passthrough: true }) reply: StatusReply) {
    const report = await this.health.report();
    reply.status(report.status === 'ok' ? 200 : 503);
    return report;
  }
}

/**
 * A second HTTP listener for operators and Prometheus (default loopback): `/metrics` and `/health` with
 * dependency details. The app's public listener serves neither. Plain node:http: two read-only routes need
 * no framework, and nothing of the public edge (auth, limits) applies here.
 */
@Injectable()
export class MetricsListener implements OnApplicationShutdown {
  private server: Server | null = null;

  constructor(
    private readonly metrics: Metrics,
    private readonly health: HealthReporter,
  ) {}

  /** Resolves with the listener's URL once it listens. */
  async listen(port: number, host: string): Promise<string> {
    const server = createServer((req, res) => void this.answer(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${shown}:${address.port}`;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise((r) => server.close(r));
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0].replace(/\/$/, '') || '/';
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' }).end(body);
    };
    try {
      if (req.method !== 'GET') return send(405, 'application/json', '{"status":"error"}');
      if (path === '/metrics')
        return send(200, 'text/plain; version=0.0.4; charset=utf-8', await this.metrics.registry.metrics());
      if (path === '/health/live') return send(200, 'application/json', JSON.stringify(LIVE));
      if (path === '/health' || path === '/health/ready') {
        const report = await this.health.report();
        return send(report.status === 'ok' ? 200 : 503, 'application/json', JSON.stringify(report));
      }
      send(404, 'application/json', '{"status":"error","detail":"GET /metrics, /health, /health/live"}');
    } catch {
      send(500, 'application/json', '{"status":"error"}');
    }
  }
}

export interface HealthModuleOptions {
  /**
   * true for an app whose only listener is its metrics listener (connectors): /metrics and detailed /health
   * on it. false (default): public listener with minimal /health; MetricsListener serves the rest.
   */
  metricsOnThisListener?: boolean;
}

@Module({})
export class HealthModule {
  /** probes: provider classes implementing ReadinessProbe, resolved from the importing app. */
  static forProbes(probes: Type<ReadinessProbe>[], options: HealthModuleOptions = {}): DynamicModule {
    return {
      module: HealthModule,
      imports: [MetricsModule],
      controllers: options.metricsOnThisListener
        ? [DetailedHealthController, MetricsController]
        : [HealthController],
      providers: [
        {
          provide: READINESS_PROBES,
          useFactory: (...instances: ReadinessProbe[]) => instances,
          inject: probes,
        },
        HealthReporter,
        MetricsListener,
      ],
      exports: [HealthReporter, MetricsListener],
    };
  }
}
