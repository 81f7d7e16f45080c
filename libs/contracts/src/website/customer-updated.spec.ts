import { compiledContract } from '../compiled-validation';
import { ContractViolation } from '../errors';
import { CONTRACTS, EventType } from '../registry';
import { validateContract, validateContractWithClassValidator } from '../validation';
import { CustomerUpdatedV1 } from './customer-updated';

const CUSTOMER = {
  siteCustomerId: 'wc-1042',
  version: 1765100000000,
  name: 'Anna Petrova',
  phones: ['+7 912 000-11-22', '8 (912) 000-33-44'],
  emails: ['anna@example.com'],
  birthday: '1990-05-01',
  address: { country: 'RU', city: 'Moscow', postalCode: '101000', line1: 'Tverskaya 1' },
  consents: { marketingEmail: true, sms: false },
  updatedAt: '2026-12-07T10:00:00Z',
};

const verdict = (validate: () => object): string => {
  try {
    return `ok ${JSON.stringify(validate())}`;
  } catch (err) {
    if (!(err instanceof ContractViolation)) throw err;
    return `refused ${JSON.stringify(err.errors)}`;
  }
};

describe('website.customer.updated v1', () => {
  it('is registered, compiles, and keys one revision of one account', () => {
    const def = CONTRACTS[EventType.WebsiteCustomerUpdated];
    expect(def.dto).toBe(CustomerUpdatedV1);
    expect(def.naturalKey(CUSTOMER)).toBe('customer:wc-1042@1765100000000');
    expect(def.occurredAt(CUSTOMER)).toBe('2026-12-07T10:00:00Z');
    expect(compiledContract(CustomerUpdatedV1)).toEqual({ accepts: expect.any(Function), plainData: true });
  });

  it('accepts a full account, a minimal one, and nulls that clear', () => {
    expect(validateContract(CustomerUpdatedV1, CUSTOMER)).toMatchObject({ siteCustomerId: 'wc-1042' });
    expect(validateContract(CustomerUpdatedV1, { siteCustomerId: 'x', version: 0 })).toMatchObject({
      version: 0,
    });
    expect(
      validateContract(CustomerUpdatedV1, {
        siteCustomerId: 'x',
        version: 2,
        name: null,
        birthday: null,
        address: null,
      }),
    ).toMatchObject({ name: null });
  });

  it.each([
    ['no site id', { siteCustomerId: undefined }, 'siteCustomerId'],
    ['a fractional version', { version: 1.5 }, 'version'],
    ['a negative version', { version: -1 }, 'version'],
    ['a bad email', { emails: ['not-an-email'] }, 'emails'],
    ['eleven phones', { phones: Array.from({ length: 11 }, (_, i) => `+7912000000${i}`) }, 'phones'],
    ['a date-time birthday', { birthday: '1990-05-01T00:00:00Z' }, 'birthday'],
    ['an impossible birthday', { birthday: '1990-02-30' }, 'birthday'],
    ['a country name', { address: { country: 'Russia' } }, 'address.country'],
    ['an unknown field', { password: 'x' }, 'password'],
    ['a consent that is no yes/no', { consents: { sms: 'yes' } }, 'consents'],
  ])('refuses %s, naming the field', (_name, change, field) => {
    const body = JSON.parse(JSON.stringify({ ...CUSTOMER, ...change })) as unknown;
    expect(verdict(() => validateContract(CustomerUpdatedV1, body))).toMatch(
      new RegExp(`^refused .*"field":"${field.replace('.', '\\.')}(\\.\\d+)?"`),
    );
  });

  it('the compiled check agrees with class-validator on every field removed or given a wrong value', () => {
    const WRONG: unknown[] = [null, '', 'x', -1, 0.5, 1e21, true, [], [1], {}, { a: 1 }, '2026-13-01', 'a@b'];
    const bodies: unknown[] = [CUSTOMER];
    const vary = (base: Record<string, unknown>, wrap: (v: Record<string, unknown>) => unknown) => {
      for (const key of Object.keys(base)) {
        bodies.push(wrap({ ...base, [key]: undefined }));
        for (const w of WRONG) bodies.push(wrap({ ...base, [key]: w }));
      }
    };
    vary(CUSTOMER, (v) => v);
    vary(CUSTOMER.address, (a) => ({ ...CUSTOMER, address: a }));
    const disagreements = bodies
      .map((b) => JSON.parse(JSON.stringify(b)) as unknown)
      .filter(
        (b) =>
          verdict(() => validateContract(CustomerUpdatedV1, b)) !==
          verdict(() => validateContractWithClassValidator(CustomerUpdatedV1, b)),
      );
    expect(disagreements).toEqual([]);
    expect(bodies.length).toBeGreaterThan(100);
  });
});
