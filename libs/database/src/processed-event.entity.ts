import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The inbox: written in the same transaction as a consumer's effects. (consumer, event_id) absorbs broker
 * redeliveries; (consumer, peer_id, idempotency_key) absorbs a peer re-posting the same fact. Partitioned by
 * receivedOn (the UTC day of the UUIDv7 event id) and kept for database.idempotencyWindowDays
 * (migration 1766000000000-inbox-partitions).
 */
@Entity('processed_events')
export class ProcessedEvent {
  @PrimaryColumn({ type: 'text' }) consumer: string;
  @PrimaryColumn({ type: 'uuid' }) eventId: string;
  /** YYYY-MM-DD */
  @PrimaryColumn({ type: 'date' }) receivedOn: string;
  @Column({ type: 'text' }) peerId: string;
  @Column({ type: 'text' }) idempotencyKey: string;
  @Column({ type: 'text' }) eventType: string;
  @Column({ type: 'text', nullable: true }) traceId: string | null;
  @Column({ type: 'text' }) outcome: string;
  @Column({ type: 'timestamptz', default: () => 'now()' }) processedAt: Date;
}
