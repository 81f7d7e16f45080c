import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { AnyClass } from './compiled-validation';
import { contractJsonSchema } from './json-schema';
import { CallEventV1, CallRecordingV1, CallRecordV1 } from './telephony';
import { validateContractWithClassValidator } from './validation';
import { LeadSubmittedV1 } from './website/lead-submitted';
import { OrderSubmittedV1 } from './website/order-submitted';
import { InvoiceV1, PriceUpdatedV1, StockUpdatedV1 } from './erp';

const ROOT = join(__dirname, '../../..');
const ALL: AnyClass[] = [OrderSubmittedV1, CallEventV1, CallRecordingV1, CallRecordV1];
// Formats are annotations in JSON Schema 2020-12; x-rules names checks of our own.
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: false });

function accepts(cls: AnyClass, body: unknown): boolean {
  try {
    validateContractWithClassValidator(cls as new () => object, body);
    return true;
  } catch {
    return false;
  }
}

describe('JSON Schema from the contracts’ class-validator metadata', () => {
  it('describes an order: types, limits, required fields, nested classes, no unknown fields', () => {
    const schema = contractJsonSchema(OrderSubmittedV1) as any;
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const order = schema.$defs.OrderSubmittedV1;
    expect(order.additionalProperties).toBe(false);
    expect(order.required).toEqual(expect.arrayContaining(['externalId', 'items', 'createdAt']));
    expect(order.properties.externalId).toMatchObject({ type: 'string', maxLength: expect.any(Number) });
    expect(order.properties.items).toMatchObject({ type: 'array', items: { $ref: '#/$defs/OrderItemDto' } });
    expect(schema.$defs.OrderItemDto.additionalProperties).toBe(false);
  });

  it.each([LeadSubmittedV1, StockUpdatedV1, PriceUpdatedV1, InvoiceV1])(
    '%p compiles with Ajv 2020',
    (cls) => {
      expect(() => ajv.compile(contractJsonSchema(cls))).not.toThrow();
    },
  );

  it('on the fuzz corpus: every body a contract accepts, its schema accepts; most refusals it refuses too', () => {
    const lines = execFileSync(
      process.execPath,
      [join(ROOT, 'test/fuzz/contract-bodies.mjs'), '1500', '21'],
      {
        maxBuffer: 512 * 1024 * 1024,
        encoding: 'utf8',
      },
    )
      .split('\n')
      .filter(Boolean);
    const validators = new Map(ALL.map((cls) => [cls, ajv.compile(contractJsonSchema(cls))]));
    const falseRefusals: string[] = [];
    let accepted = 0;
    let refused = 0;
    let refusedBySchema = 0;
    for (const line of lines) {
      const { endpoint, raw } = JSON.parse(line) as { endpoint: string; raw: string };
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        continue;
      }
      if (endpoint === '/v1/telephony/events' && body && typeof body === 'object' && !Array.isArray(body))
        body = (({ type: _type, ...rest }) => rest)(body as Record<string, unknown>);
      for (const cls of ALL) {
        const schemaSays = validators.get(cls)!(body);
        if (accepts(cls, body)) {
          accepted++;
          if (!schemaSays) falseRefusals.push(`${cls.name}: ${raw.slice(0, 200)}`);
        } else {
          refused++;
          if (!schemaSays) refusedBySchema++;
        }
      }
    }
    expect(falseRefusals).toEqual([]);
    expect(accepted).toBeGreaterThan(40);
    // Checks JSON Schema cannot say (calendar dates, decimal places, E.164 parsing) let a few through.
    expect(refusedBySchema / refused).toBeGreaterThan(0.8);
  }, 120_000);
});
