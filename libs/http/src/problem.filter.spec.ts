import { NotFoundException } from '@nestjs/common';
import { BrokerUnavailableError, ContractViolation } from '@switchboard/contracts';
import { toProblem } from './problem.filter';

describe('toProblem', () => {
  it('maps contract violations to 400 with field errors', () => {
    const p = toProblem(
      new ContractViolation([{ field: 'total', rule: 'isNumber', message: 'bad' }]),
      '/x',
      't1',
    );
    expect(p).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', instance: '/x', traceId: 't1' });
    expect(p.errors).toHaveLength(1);
  });

  it('maps broker trouble to 503', () => {
    expect(toProblem(new BrokerUnavailableError())).toMatchObject({
      status: 503,
      code: 'BROKER_UNAVAILABLE',
    });
  });

  it('maps Fastify body errors by code', () => {
    expect(
      toProblem(Object.assign(new Error('too big'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE' })).status,
    ).toBe(413);
    expect(toProblem(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' })).status).toBe(
      415,
    );
  });

  it('maps Nest route-not-found to 404', () => {
    expect(toProblem(new NotFoundException())).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('hides internals of unexpected errors', () => {
    const p = toProblem(new Error('relation "secret_table" does not exist'));
    expect(p).toMatchObject({ status: 500, code: 'INTERNAL' });
    expect(JSON.stringify(p)).not.toContain('secret_table');
  });
});
