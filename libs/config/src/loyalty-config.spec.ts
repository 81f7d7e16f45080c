import { clockFromEnv } from './clock';
import { loadConfig } from './load-config';
import { join } from 'node:path';

const base = { SWITCHBOARD_CONFIG_DIR: join(__dirname, '../../../config') };

describe('crm.loyalty config', () => {
  it('ships tiers in ascending order and takes overrides from the environment', () => {
    const c = loadConfig(base, ['crm']);
    expect(c.crm.loyalty.tiers.map((t) => t.name)).toEqual(['silver', 'gold', 'platinum']);
    const o = loadConfig(
      {
        ...base,
        CRM_LOYALTY_TIERS: '[{"name":"vip","minSpend":1000,"percent":7.5}]',
        CRM_LOYALTY_CURRENCY: 'EUR',
        CRM_LOYALTY_WINDOW_DAYS: '180',
      },
      ['crm'],
    );
    expect(o.crm.loyalty).toMatchObject({
      tiers: [{ name: 'vip', minSpend: 1000, percent: 7.5 }],
      currency: 'EUR',
      windowDays: 180,
    });
  });

  it('refuses to start on bad tiers, naming the problem', () => {
    expect(() =>
      loadConfig(
        {
          ...base,
          CRM_LOYALTY_TIERS:
            '[{"name":"a","minSpend":500,"percent":5},{"name":"b","minSpend":100,"percent":3}]',
        },
        ['crm'],
      ),
    ).toThrow(/crm\.loyalty\.tiers.*tiers\[1\]\.minSpend must be greater than the tier before it/s);
    expect(() => loadConfig({ ...base, CRM_LOYALTY_CURRENCY: 'rubles' }, ['crm'])).toThrow(
      /crm\.loyalty\.currency/,
    );
  });
});

describe('clockFromEnv', () => {
  it('moves the clock only under NODE_ENV=test', () => {
    const year = String(365 * 86_400_000);
    const moved = clockFromEnv({ NODE_ENV: 'test', SWITCHBOARD_TEST_CLOCK_OFFSET_MS: year }).now().getTime();
    expect(moved - Date.now()).toBeGreaterThan(364 * 86_400_000);
    const prod = clockFromEnv({ NODE_ENV: 'production', SWITCHBOARD_TEST_CLOCK_OFFSET_MS: year })
      .now()
      .getTime();
    expect(Math.abs(prod - Date.now())).toBeLessThan(60_000);
  });
});
