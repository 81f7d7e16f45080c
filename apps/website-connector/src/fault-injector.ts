import { Injectable } from '@nestjs/common';

/**
 * Test-only fault injection, inert unless NODE_ENV=test: orders whose externalId starts with
 * FAULT_FAIL_ORDER_PREFIX fail every attempt with a transient error, to exercise the retry ladder and the
 * dead-letter queue end to end.
 */
@Injectable()
export class FaultInjector {
  private readonly prefix =
    process.env.NODE_ENV === 'test' && process.env.FAULT_FAIL_ORDER_PREFIX
      ? process.env.FAULT_FAIL_ORDER_PREFIX
      : null;

  maybeFail(externalId: string): void {
    if (this.prefix && externalId.startsWith(this.prefix)) {
      throw new Error(`injected fault for ${externalId}`);
    }
  }
}
