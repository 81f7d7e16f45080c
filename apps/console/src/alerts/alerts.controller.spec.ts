import { ContractViolation } from '@switchboard/contracts';
import { DEFAULT_ALERT_LIMIT, parseAlertListQuery } from './alerts.controller';

const rules = (q: Record<string, unknown>) => {
  try {
    parseAlertListQuery(q);
  } catch (e) {
    expect(e).toBeInstanceOf(ContractViolation);
    return (e as ContractViolation).errors.map((x) => [x.field, x.rule]);
  }
  throw new Error('expected a ContractViolation');
};

describe('parseAlertListQuery', () => {
  it('defaults and filters', () => {
    expect(parseAlertListQuery({})).toEqual({
      status: undefined,
      rule: undefined,
      limit: DEFAULT_ALERT_LIMIT,
    });
    expect(parseAlertListQuery({ status: 'firing', rule: 'authFailures', limit: '5' })).toEqual({
      status: 'firing',
      rule: 'authFailures',
      limit: 5,
    });
    expect(parseAlertListQuery({ status: '' })).toMatchObject({ status: undefined });
  });

  it('refuses bad values', () => {
    expect(rules({ status: 'open' })).toEqual([['status', 'enum']]);
    expect(rules({ status: ['firing', 'resolved'] })).toEqual([['status', 'single']]);
    expect(rules({ limit: '0' })).toEqual([['limit', 'range']]);
    expect(rules({ limit: '1.5' })).toEqual([['limit', 'range']]);
    expect(rules({ limit: '5000' })).toEqual([['limit', 'range']]);
  });
});
