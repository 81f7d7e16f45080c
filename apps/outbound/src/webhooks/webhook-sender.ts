import { Inject, Injectable, Logger } from '@nestjs/common';
import { OutboundHttp } from '@switchboard/access-log';
import { AppConfig, OutboundConfig } from '@switchboard/config';
import { Metrics } from '@switchboard/observability';
import {
  AttemptResult,
  ClaimedDelivery,
  classify,
  DeliveryErrorCode,
  OutboundDeliveries,
  outboundSecretAad,
  signStandardWebhook,
  whsecKey,
} from '@switchboard/peer-auth';
import { SecretBox } from '@switchboard/secrets';
import { Counter } from 'prom-client';
import { CLOCK, Clock } from './clock';

/** The access log's service name of every webhook attempt (direction outbound). */
export const WEBHOOK_SERVICE = 'outbound.webhook';

/**
 * Claims due deliveries, POSTs each signed (Standard Webhooks: webhook-id = the delivery id, the same on every
 * retry and replay so the site can drop duplicates), and records the outcomes. Every attempt goes through
 * OutboundHttp, so each is one outbound access-log record.
 */
@Injectable()
export class WebhookSender {
  private readonly logger = new Logger('WebhookSender');
  private readonly cfg: OutboundConfig;
  /** Opened secrets by sealed token: opening (AES-GCM) once per secret, not once per delivery. */
  private readonly keys = new Map<string, Buffer | null>();
  private readonly attemptsTotal: Counter<string>;

  constructor(
    private readonly deliveries: OutboundDeliveries,
    private readonly http: OutboundHttp,
    private readonly box: SecretBox,
    @Inject(CLOCK) private readonly clock: Clock,
    config: AppConfig,
    metrics: Metrics,
  ) {
    this.cfg = config.outbound;
    this.attemptsTotal = metrics.counter(
      'switchboard_outbound_attempts_total',
      'Webhook attempts by outcome',
      ['outcome'],
    );
  }

  /** The lease outlives one POST's deadline with room to record it; a crashed replica's claims free up after it. */
  get leaseMs(): number {
    return this.cfg.requestTimeoutMs * 2 + 5000;
  }

  /** One round; returns how many deliveries it attempted. */
  async sendOnce(): Promise<number> {
    const claimed = await this.deliveries.claim(
      this.clock.now(),
      Math.max(1, Math.floor(this.cfg.batchSize / 2)),
      this.leaseMs,
    );
    if (claimed.length === 0) return 0;
    const results = new Array<{ delivery: ClaimedDelivery; result: AttemptResult; at: Date }>(claimed.length);
    let next = 0;
    const lane = async () => {
      while (next < claimed.length) {
        const i = next++;
        const at = this.clock.now();
        results[i] = { delivery: claimed[i], result: await this.attempt(claimed[i], at), at };
      }
    };
    // Two rounds run at once (WebhookLoop): each takes half the replica's requests in flight.
    const lanes = Math.max(1, Math.floor(this.cfg.concurrency / 2));
    await Promise.all(Array.from({ length: Math.min(lanes, claimed.length) }, lane));
    const paused = await this.deliveries.complete(results, this.clock.now(), this.cfg);
    for (const peerId of paused) {
      this.logger.warn({
        message: `outbound endpoint of peer ${peerId} failed for ${this.cfg.pauseAfterHours} h: paused`,
        event: 'outbound.endpoint.paused',
        peerId,
      });
    }
    return claimed.length;
  }

  private async attempt(d: ClaimedDelivery, at: Date): Promise<AttemptResult> {
    const key = this.keyOf(d);
    let result: AttemptResult;
    if (!key) {
      result = { httpStatus: null, errorCode: DeliveryErrorCode.SECRET_UNAVAILABLE };
    } else {
      const timestamp = Math.floor(at.getTime() / 1000);
      try {
        const res = await this.http.post(
          { service: WEBHOOK_SERVICE, peerId: d.peerId, eventId: d.id },
          d.url,
          {
            headers: {
              'content-type': 'application/json',
              'user-agent': 'Switchboard-Webhooks/1',
              'webhook-id': d.id,
              'webhook-timestamp': String(timestamp),
              'webhook-signature': signStandardWebhook(d.id, timestamp, d.body, key),
            },
            body: d.body,
            timeoutMs: this.cfg.requestTimeoutMs,
          },
        );
        result = { httpStatus: res.status, retryAfter: res.header('retry-after') };
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        result = {
          httpStatus: null,
          errorCode: typeof code === 'string' ? code : DeliveryErrorCode.UNREACHABLE,
        };
      }
    }
    this.attemptsTotal.inc({ outcome: classify(result) });
    return result;
  }

  private keyOf(d: ClaimedDelivery): Buffer | null {
    if (!this.keys.has(d.sealedSecret)) {
      let key: Buffer | null = null;
      try {
        key = whsecKey(this.box.openString(d.sealedSecret, outboundSecretAad(d.peerId)));
      } catch (err) {
        this.logger.error(`outbound secret of peer ${d.peerId} does not open: ${(err as Error).message}`);
      }
      if (this.keys.size > 10_000) this.keys.clear();
      this.keys.set(d.sealedSecret, key);
    }
    return this.keys.get(d.sealedSecret)!;
  }
}
