import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { DeliveriesStore } from '@switchboard/notifications';
import { OrderStatusMessages } from '../messages/order-status-messages.service';
import { MessageSender } from './message-sender.service';

const SWEEP_EVERY_MS = 10_000;

/**
 * The sender's heartbeat: every notifications.pollIntervalMs, queue order-status messages from the CRM outbox,
 * then send what is due; every 10 s, close what is past its give-up time and wipe sealed codes. A failed pass
 * (database down) is logged and the next one tries again; nothing is lost, the state is in the table.
 */
@Injectable()
export class MessagesLoop implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('MessagesLoop');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private lastSweep = 0;

  constructor(
    private readonly sender: MessageSender,
    private readonly orderStatus: OrderStatusMessages,
    private readonly deliveries: DeliveriesStore,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass().finally(() => {
        this.running = null;
        this.schedule(this.config.notifications.pollIntervalMs);
      });
    }, ms);
  }

  /** One pass; public for tests. */
  async pass(): Promise<void> {
    try {
      await this.orderStatus.runOnce();
      // Drain what is due now rather than one batch per interval.
      while (!this.stopped && (await this.sender.runOnce()) > 0);
      if (Date.now() - this.lastSweep >= SWEEP_EVERY_MS) {
        this.lastSweep = Date.now();
        await this.deliveries.sweep();
      }
    } catch (err) {
      this.logger.error(`messages pass failed: ${(err as Error).message}`);
    }
  }
}
