import { Injectable } from '@nestjs/common';
import {
  AuthError,
  CONTRACTS,
  ContractViolation,
  createEnvelope,
  type EventEnvelope,
  EventType,
  validateContract,
} from '@switchboard/contracts';
import { ConfirmedPublisher, TopologyNames } from '@switchboard/messaging';
import { Correlation, Metrics } from '@switchboard/observability';
import { scopeAllows, type AuthenticatedPeer } from '@switchboard/peer-auth';
import { Counter, Histogram } from 'prom-client';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

export interface IngestRequest {
  type: EventType;
  peer: Pick<AuthenticatedPeer, 'id' | 'scopes'>;
  body: unknown;
  idempotencyKey?: string;
}

/** Validate -> envelope -> confirmed publish. Returns only once the broker holds the event durably. */
/** The envelope of a validated payload: its key and time as its contract defines them, under this request's trace. */
function envelopeOf(req: IngestRequest, payload: object): EventEnvelope<object> {
  const contract = CONTRACTS[req.type];
  return createEnvelope({
    type: req.type,
    peerId: req.peer.id,
    idempotencyKey: req.idempotencyKey ?? contract.naturalKey(payload as never),
    occurredAt: contract.occurredAt(payload as never),
    schemaVersion: contract.schemaVersion,
    traceId: Correlation.id() ?? 'none',
    payload,
  });
}

@Injectable()
export class IngestService {
  private readonly accepted: Counter<string>;
  private readonly confirmLatency: Histogram<string>;

  constructor(
    private readonly publisher: ConfirmedPublisher,
    private readonly names: TopologyNames,
    metrics: Metrics,
  ) {
    this.accepted = metrics.counter('switchboard_ingest_total', 'Events offered to the gateway', [
      'type',
      'result',
    ]);
    this.confirmLatency = metrics.histogram(
      'switchboard_publish_confirm_seconds',
      'Time from publish to broker confirm',
      [],
      [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    );
  }

  async accept(req: IngestRequest): Promise<{ eventId: string }> {
    return this.publish(this.prepare(req));
  }

  /**
   * Several events of one request: every one is checked before the first is published, so a batch with one
   * bad item is refused whole (nothing half-accepted). Published in order, each confirmed by the broker.
   */
  async acceptAll(reqs: IngestRequest[]): Promise<{ eventIds: string[] }> {
    const prepared = reqs.map((r) => this.prepare(r));
    const eventIds: string[] = [];
    for (const p of prepared) eventIds.push((await this.publish(p)).eventId);
    return { eventIds };
  }

  /** Scope and contract checks, then the envelope; throws (and counts) what is refused. */
  prepare(req: IngestRequest): EventEnvelope<object> {
    return envelopeOf(req, this.check(req));
  }

  /**
   * Scope and contract checks alone: the validated payload (the 1C exchange checks each fact of a file this
   * way and sends many in one erp.catalog.batch envelope). Throws (and counts) what is refused.
   */
  check(req: IngestRequest): object {
    if (!scopeAllows(req.peer.scopes, req.type)) {
      this.accepted.inc({ type: req.type, result: 'denied' });
      throw new AuthError('AUTH_SCOPE_DENIED', `This peer may not send ${req.type} events.`);
    }
    const contract = CONTRACTS[req.type];
    try {
      const payload = validateContract(contract.dto, req.body);
      if (req.idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(req.idempotencyKey)) {
        throw new ContractViolation([
          { field: 'Idempotency-Key', rule: 'header', message: 'must be 1-200 printable ASCII characters' },
        ]);
      }
      return payload;
    } catch (err) {
      this.accepted.inc({ type: req.type, result: 'invalid' });
      throw err;
    }
  }

  /** Counts a fact refused elsewhere (the 1C exchange checks a file's facts on a parse worker thread). */
  refused(type: EventType, result: 'denied' | 'invalid'): void {
    this.accepted.inc({ type, result });
  }

  /** Returns once the broker confirmed the envelope to a durable queue. */
  async publish(envelope: EventEnvelope<object>): Promise<{ eventId: string }> {
    return this.publishBytes(envelope, Buffer.from(JSON.stringify(envelope)));
  }

  /**
   * The same for an envelope serialized earlier (`bytes` is its JSON): the 1C exchange spools a file's events
   * while parsing and publishes them once the whole file has been read.
   */
  async publishBytes(
    envelope: Pick<EventEnvelope, 'id' | 'type' | 'traceId'>,
    bytes: Buffer,
  ): Promise<{ eventId: string }> {
    const stop = this.confirmLatency.startTimer();
    try {
      await this.publisher.publish(this.names.exchange, envelope.type, bytes, {
        messageId: envelope.id,
        correlationId: envelope.traceId,
        type: envelope.type,
      });
    } catch (err) {
      this.accepted.inc({ type: envelope.type, result: 'unavailable' });
      throw err;
    } finally {
      stop();
    }
    this.accepted.inc({ type: envelope.type, result: 'accepted' });
    // The request's first accepted event, for its access-log record.
    const ctx = Correlation.current();
    if (ctx && ctx.eventId === undefined) ctx.eventId = envelope.id;
    return { eventId: envelope.id };
  }
}
