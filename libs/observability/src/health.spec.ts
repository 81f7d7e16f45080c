import { Global, Injectable, Module, ServiceUnavailableException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { HealthController, HealthModule, ReadinessProbe, runtimeVersion } from './health';

let brokerUp = true;
@Injectable()
class FakeBrokerProbe implements ReadinessProbe {
  readonly name = 'broker';
  check() {
    return Promise.resolve(brokerUp);
  }
}

/** Apps provide their probes from global modules (database, messaging); so does this test. */
@Global()
@Module({ providers: [FakeBrokerProbe], exports: [FakeBrokerProbe] })
class ProbesModule {}

describe('HealthController (terminus HealthIndicatorService)', () => {
  let controller: HealthController;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ProbesModule, HealthModule.forProbes([FakeBrokerProbe])],
    }).compile();
    controller = moduleRef.get(HealthController);
  });

  it('reports every probe up and the runtime version in details', async () => {
    brokerUp = true;
    const result = await controller.ready();
    expect(result.status).toBe('ok');
    expect(result.details).toEqual({
      runtime: { status: 'up', node: process.versions.node, platform: runtimeVersion().platform },
      broker: { status: 'up' },
    });
  });

  it('answers 503 naming the probe that is down', async () => {
    brokerUp = false;
    const failure = await controller.ready().then(
      () => null,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(ServiceUnavailableException);
    const body = (failure as ServiceUnavailableException).getResponse() as Record<string, unknown>;
    expect(body.status).toBe('error');
    expect(body.error).toEqual({ broker: { status: 'down', message: 'broker is down' } });
  });

  it('liveness ignores the probes', async () => {
    brokerUp = false;
    const result = await controller.live();
    expect(result.status).toBe('ok');
    expect(Object.keys(result.details)).toEqual(['runtime']);
  });
});
