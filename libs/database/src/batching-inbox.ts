import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { EventEnvelope } from '@switchboard/contracts';
import { DataSource, EntityManager } from 'typeorm';
import { Inbox, InboxOutcome, lockAll } from './inbox';

export interface BatchItem<R> {
  envelope: EventEnvelope;
  /** Advisory-lock keys the effects need (e.g. "phone:+7912…"); taken for the whole batch, sorted, up front. */
  lockKeys: string[];
  effects: (em: EntityManager) => Promise<R>;
}

interface Pending<R> extends BatchItem<R> {
  consumer: string;
  resolve: (r: InboxOutcome<R>) => void;
  reject: (e: unknown) => void;
}

export interface BatchingOptions {
  maxBatch: number;
  lingerMs: number;
}

/**
 * Effectively-once like Inbox, but concurrent submissions are coalesced into one transaction per batch:
 * markers in one statement, every lock in one statement (sorted, so two batches cannot deadlock), effects in
 * order, one commit. Each caller still gets its own outcome only after the commit, so acks stay after
 * durability. If a batch fails, each of its items is retried alone in its own transaction, so one bad
 * message fails only itself.
 */
@Injectable()
export class BatchingInbox implements OnApplicationShutdown {
  private readonly logger = new Logger('BatchingInbox');
  private queue: Array<Pending<{ outcome: string }>> = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly running = new Set<Promise<void>>();
  options: BatchingOptions = { maxBatch: 50, lingerMs: 2 };

  constructor(
    private readonly ds: DataSource,
    private readonly single: Inbox,
  ) {}

  submit<R extends { outcome: string }>(consumer: string, item: BatchItem<R>): Promise<InboxOutcome<R>> {
    return new Promise<InboxOutcome<R>>((resolve, reject) => {
      this.queue.push({ ...item, consumer, resolve, reject } as unknown as Pending<{ outcome: string }>);
      if (this.queue.length >= this.options.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.lingerMs);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.flush();
    await Promise.allSettled([...this.running]);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.queue.length === 0) return;
    const queued = this.queue;
    this.queue = [];
    for (const consumer of new Set(queued.map((q) => q.consumer))) {
      const run = this.runBatch(queued.filter((q) => q.consumer === consumer)).finally(() =>
        this.running.delete(run),
      );
      this.running.add(run);
    }
  }

  private async runBatch(batch: Array<Pending<{ outcome: string }>>): Promise<void> {
    if (batch.length === 1) return this.runAlone(batch[0]);
    let results: Array<InboxOutcome<{ outcome: string }>>;
    try {
      results = await this.ds.transaction(async (em) => {
        const consumer = batch[0].consumer;
        const fresh: Array<{ event_id: string }> = await em.query(
          `INSERT INTO processed_events (consumer, event_id, peer_id, idempotency_key, event_type, trace_id, outcome)
           SELECT $1, e, p, k, t, tr, 'pending'
             FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[]) AS x(e, p, k, t, tr)
            -- a fixed insertion order: two batches holding the same keys wait, never deadlock
            ORDER BY p, k, e
           ON CONFLICT DO NOTHING RETURNING event_id`,
          [
            consumer,
            batch.map((b) => b.envelope.id),
            batch.map((b) => b.envelope.peerId),
            batch.map((b) => b.envelope.idempotencyKey),
            batch.map((b) => b.envelope.type),
            batch.map((b) => b.envelope.traceId),
          ],
        );
        const freshIds = new Set(fresh.map((f) => f.event_id));
        const todo = batch.filter((b) => freshIds.has(b.envelope.id));
        const keys = todo.flatMap((b) => b.lockKeys);
        await lockAll(em, keys);
        const out: Array<InboxOutcome<{ outcome: string }>> = [];
        const outcomes = new Map<string, string>();
        for (const b of batch) {
          // A batch may hold the same event twice (redelivery) or a re-post: only the first marker is fresh.
          if (!freshIds.has(b.envelope.id) || outcomes.has(b.envelope.id)) {
            out.push({ duplicate: true });
            continue;
          }
          const result = await b.effects(em);
          outcomes.set(b.envelope.id, result.outcome);
          out.push({ duplicate: false, result });
        }
        if (outcomes.size) {
          await em.query(
            `UPDATE processed_events p SET outcome = x.o
               FROM unnest($2::uuid[], $3::text[]) AS x(e, o)
              WHERE p.consumer = $1 AND p.event_id = x.e`,
            [consumer, [...outcomes.keys()], [...outcomes.values()]],
          );
        }
        return out;
      });
    } catch (err) {
      // Isolate: each item alone, each with its own result or error.
      this.logger.warn(`batch of ${batch.length} failed (${(err as Error).message}); retrying each alone`);
      await Promise.all(batch.map((b) => this.runAlone(b)));
      return;
    }
    batch.forEach((b, i) => b.resolve(results[i]));
  }

  private async runAlone(b: Pending<{ outcome: string }>): Promise<void> {
    try {
      b.resolve(await this.single.process(b.consumer, b.envelope, b.effects, b.lockKeys));
    } catch (err) {
      b.reject(err);
    }
  }
}
