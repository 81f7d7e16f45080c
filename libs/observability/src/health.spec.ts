import { Global, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  DetailedHealthController,
  HealthController,
  HealthModule,
  ReadinessProbe,
  runtimeVersion,
} from './health';

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

const reply = () => {
  const r = { code: 0, status: (c: number) => (r.code = c) };
  return r;
};

describe('health', () => {
  const build = async (metricsOnThisListener: boolean) =>
    (
      await Test.createTestingModule({
        imports: [ProbesModule, HealthModule.forProbes([FakeBrokerProbe], { metricsOnThisListener })],
      }).compile()
    ).get(metricsOnThisListener ? DetailedHealthController : HealthController);

  it('details (metrics listener): every probe up and the runtime version', async () => {
    brokerUp = true;
    const controller = await build(true);
    const r = reply();
    const result = await controller.ready(r);
    expect(r.code).toBe(200);
    expect(result).toEqual({
      status: 'ok',
      details: {
        runtime: { status: 'up', node: process.versions.node, platform: runtimeVersion().platform },
        broker: { status: 'up' },
      },
    });
  });

  it('details: 503 naming the probe that is down', async () => {
    brokerUp = false;
    const controller = await build(true);
    const r = reply();
    const result = await controller.ready(r);
    expect(r.code).toBe(503);
    expect(result.status).toBe('error');
    expect(result.details.broker).toEqual({ status: 'down' });
  });

  it('the public answer is the status alone; liveness ignores the probes', async () => {
    brokerUp = false;
    const controller = (await build(false)) as HealthController;
    const r = reply();
    expect(await controller.ready(r)).toEqual({ status: 'error' });
    expect(r.code).toBe(503);
    expect(controller.live()).toEqual({ status: 'ok' });
  });
});
