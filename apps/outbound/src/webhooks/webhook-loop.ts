import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChangeReader } from './change-reader';
import { WebhookSender } from './webhook-sender';

/**
 * Runs the reader (outbox -> deliveries) and the sender (deliveries -> sites) as two loops: each goes again at
 * once while it finds work and sleeps pollIntervalMs when idle. A failing step (database down) is logged and
 * retried after a pause; on shutdown the loops finish their round (the sender records what it sent) and stop.
 */
@Injectable()
export class WebhookLoop implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private stopping = false;
  private loops: Array<Promise<void>> = [];
  private readonly wake = new AbortController();

  constructor(
    private readonly reader: ChangeReader,
    private readonly sender: WebhookSender,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.reader.init();
    // Two sender rounds overlap: while one records its outcomes and claims again, the other's requests are in
    // flight, so the connections never idle between rounds. Safe for order: a delivery in flight keeps its
    // contact's later changes unclaimable until its outcome is recorded.
    this.loops = [
      this.run('reader', () => this.reader.readOnce()),
      this.run('sender', () => this.sender.sendOnce()),
      this.run('sender', () => this.sender.sendOnce()),
    ];
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.wake.abort();
    await Promise.all(this.loops);
  }

  private async run(name: string, step: () => Promise<number>): Promise<void> {
    const idle = this.config.outbound.pollIntervalMs;
    while (!this.stopping) {
      let pause = 0;
      try {
        if ((await step()) === 0) pause = idle;
      } catch (err) {
        this.logger.warn(`${name} step failed: ${(err as Error).message}`);
        pause = Math.max(idle, 1000);
      }
      if (pause && !this.stopping)
        await sleep(pause, undefined, { signal: this.wake.signal }).catch(() => undefined);
    }
  }
}
