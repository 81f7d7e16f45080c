import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AnyClass, compiledContract } from './compiled-validation';
import { ContractViolation } from './errors';
import { CallEventV1, CallRecordingV1, CallRecordV1 } from './telephony';
import { validateContract, validateContractWithClassValidator } from './validation';
import { OrderSubmittedV1 } from './website/order-submitted';

const ROOT = join(__dirname, '../../..');
const ALL = [OrderSubmittedV1, CallEventV1, CallRecordingV1, CallRecordV1];
const FOR_ENDPOINT: Record<string, AnyClass[]> = {
  '/v1/website/orders': [OrderSubmittedV1],
  '/v1/telephony/events': [CallEventV1, CallRecordingV1],
  '/v1/telephony/cdr': [CallRecordV1],
};

type Outcome = { accepted: true; json: string } | { accepted: false; fields: string[]; codes: string[] };

/** JSON with sorted keys: the instance lists declared fields first, the plain body in the order sent. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );

function outcome(validate: () => object): Outcome {
  try {
    return { accepted: true, json: canonical(validate()) };
  } catch (err) {
    if (!(err instanceof ContractViolation)) throw err;
    return {
      accepted: false,
      fields: [...new Set(err.errors.map((e) => e.field))].sort(),
      codes: err.errors.map((e) => `${e.field} ${e.rule} ${e.message}`),
    };
  }
}

/** Parses a body as the gateway would; null when it is no JSON at all (refused before validation). */
function parse(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}

interface Tally {
  bodies: number;
  accepted: Map<string, number>;
  refused: Map<string, number>;
  disagreements: string[];
}

function compare(tally: Tally, cls: AnyClass, body: unknown, source: string): void {
  const type = cls as new () => object;
  const reference = outcome(() => validateContractWithClassValidator(type, body));
  const ours = outcome(() => validateContract(type, body));
  // Neither verdict nor the fields may differ; the refusal itself must be class-validator's, word for word.
  if (JSON.stringify(reference) !== JSON.stringify(ours)) {
    tally.disagreements.push(
      `${source} as ${cls.name}: class-validator ${JSON.stringify(reference).slice(0, 300)}, compiled ${JSON.stringify(ours).slice(0, 300)}`,
    );
  }
  const counts = reference.accepted ? tally.accepted : tally.refused;
  counts.set(cls.name, (counts.get(cls.name) ?? 0) + 1);
  tally.bodies++;
}

function newTally(): Tally {
  return { bodies: 0, accepted: new Map(), refused: new Map(), disagreements: [] };
}

describe('compiled validation agrees with class-validator', () => {
  it('compiles every registered contract (none falls back to class-validator alone)', () => {
    for (const cls of ALL)
      expect(compiledContract(cls)).toEqual({ accepts: expect.any(Function), plainData: true });
  });

  it('on the fuzz corpus: the same verdict, the same errors[].field set (the same errors), for every contract', () => {
    // The fuzzer's own case generator, run as a child (it is ESM): its bodies for the generic endpoints.
    const lines = execFileSync(
      process.execPath,
      [join(ROOT, 'test/fuzz/contract-bodies.mjs'), '2500', '20'],
      {
        maxBuffer: 512 * 1024 * 1024,
        encoding: 'utf8',
      },
    )
      .split('\n')
      .filter(Boolean);
    const tally = newTally();
    for (const [i, line] of lines.entries()) {
      const { endpoint, raw } = JSON.parse(line) as { endpoint: string; raw: string };
      const body = parse(raw);
      if (body === null) continue;
      const payload =
        endpoint === '/v1/telephony/events' && typeof body === 'object' && !Array.isArray(body)
          ? (({ type: _type, ...rest }) => rest)(body as Record<string, unknown>)
          : body;
      for (const cls of FOR_ENDPOINT[endpoint]) compare(tally, cls, payload, `fuzz body ${i} (${endpoint})`);
      // Every body against every other contract too: more refusals of every kind.
      for (const cls of ALL)
        if (!FOR_ENDPOINT[endpoint].includes(cls)) compare(tally, cls, payload, `fuzz body ${i}`);
    }
    expect(tally.disagreements).toEqual([]);
    // The corpus must exercise both answers of every contract, or agreement would prove little.
    for (const cls of ALL) {
      expect(tally.accepted.get(cls.name) ?? 0).toBeGreaterThan(10);
      expect(tally.refused.get(cls.name) ?? 0).toBeGreaterThan(100);
    }
  }, 120_000);

  it('on the fixtures, whole and with each field removed or given a wrong value', () => {
    const tally = newTally();
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (/\.json(\.txt)?$/.test(e.name)) files.push(join(dir, e.name));
      }
    };
    walk(join(ROOT, 'test/fixtures'));
    const order = {
      ...(JSON.parse(readFileSync(join(ROOT, 'test/fixtures/website/order.sample.json'), 'utf8')) as object),
      externalId: 'A-1',
      customer: { name: 'Ivan', phone: '+79990001122', email: 'ivan@example.com' },
    };
    const call = {
      provider: 'asterisk',
      providerCallId: '1700000000.1',
      direction: 'inbound',
      from: '+79990001122',
      to: '+74950000000',
      occurredAt: '2026-11-20T10:00:00.000Z',
      startedAt: '2026-11-20T09:59:00Z',
      disposition: 'answered',
      durationSeconds: 60,
      recordingUrl: 'https://pbx.example.com/r/1.wav',
    };
    const bodies: Array<[string, unknown]> = files.map((f) => [f, parse(readFileSync(f, 'utf8'))]);
    bodies.push(['order', order], ['call', call]);
    const WRONG: unknown[] = [
      null,
      '',
      'x',
      -1,
      0.5,
      1e21,
      1e-7,
      true,
      [],
      [1],
      {},
      { a: 1 },
      '2026-13-01T00:00:00Z',
      'a@b',
    ];
    const variants = (name: string, base: Record<string, unknown>, prefix = ''): Array<[string, unknown]> =>
      Object.keys(base).flatMap((key) => {
        const out: Array<[string, unknown]> = [
          [`${name} without ${prefix}${key}`, { ...base, [key]: undefined }],
        ];
        for (const w of WRONG)
          out.push([`${name} ${prefix}${key}=${JSON.stringify(w)}`, { ...base, [key]: w }]);
        return out;
      });
    bodies.push(...variants('order', order), ...variants('call', call));
    bodies.push(
      ...variants('customer', order.customer).map(([n, c]): [string, unknown] => [
        n,
        { ...order, customer: c },
      ]),
      ...variants('item', (order as unknown as { items: Record<string, unknown>[] }).items[0]).map(
        ([n, item]): [string, unknown] => [n, { ...order, items: [item] }],
      ),
    );
    for (const [source, body] of bodies) {
      // undefined fields are what JSON.parse never makes: drop them as a parsed body would have none.
      const parsed = body === null ? null : parse(JSON.stringify(body));
      if (parsed === null) continue;
      for (const cls of ALL) compare(tally, cls, parsed, source);
    }
    expect(tally.disagreements).toEqual([]);
    expect(tally.accepted.get('OrderSubmittedV1')).toBeGreaterThan(5);
    expect(tally.accepted.get('CallEventV1')).toBeGreaterThan(5);
  });
});
