import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { LoyaltyRepository } from '@switchboard/crm';
import { DataSource } from 'typeorm';
import { CLOCK, Clock } from '../leads/clock';

const PAGE = 500;

/**
 * The periodic loyalty recompute (crm.loyalty.recomputeEveryMinutes, and once at start): spend older than the
 * window ages out and manual discounts expire without any event to trigger it. Pages of contacts, each its own
 * short transaction; contacts a connector holds at that moment are skipped (it recomputes them itself).
 */
@Injectable()
export class LoyaltyJob implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('LoyaltyJob');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly loyalty: LoyaltyRepository,
    private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    const every = this.config.crm.loyalty.recomputeEveryMinutes * 60_000;
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
    void this.tick();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = this.run()
      .then((r) => {
        if (r.changed) this.logger.log(`loyalty: ${r.changed} discount(s) changed over ${r.seen} contact(s)`);
      })
      .catch((err: Error) => this.logger.warn(`loyalty recompute failed: ${err.message}`))
      .finally(() => (this.running = null));
    await this.running;
  }

  /** One pass over every contact that may have a discount, as of the clock's now. */
  async run(): Promise<{ seen: number; changed: number }> {
    const { tiers, currency, windowDays } = this.config.crm.loyalty;
    const settings = { tiers, currency, windowDays };
    const now = this.clock.now();
    let after: string | null = null;
    let seen = 0;
    let changed = 0;
    for (;;) {
      const ids = await this.loyalty.candidates(this.ds.manager, after, PAGE, settings, now);
      if (ids.length === 0) break;
      const r = await this.ds.transaction((em) =>
        this.loyalty.recompute(em, ids, settings, now, { skipLocked: true }),
      );
      seen += ids.length;
      changed += r.changed;
      after = ids[ids.length - 1];
    }
    return { seen, changed };
  }
}
