import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import {
  AuthError,
  ContractViolation,
  DomainError,
  ERP_EVENT_TYPES,
  type EventEnvelope,
  type EventType,
} from '@switchboard/contracts';
import { PeerAuthenticator, PeerDirectory, type AuthenticatedPeer } from '@switchboard/peer-auth';
import { IngestService } from '../../ingest.service';
import { XmlError, XmlStream, type XmlNode } from '../xml';
import { catalogBatchJson, CatalogBatcher } from './catalog-batcher';
import { CatalogMapper, captureOrderDocuments, orderStatusEvent, type CmlEvent } from './commerceml';
import { EventSpool } from './event-spool';
import { ExchangeStore, type ImportRow } from './exchange.store';
import { renderOrders } from './sale-document';
import { zipEntry, ZipRefused } from './zip-entry';

export const SESSION_COOKIE = 'sb1c_session';

/**
 * JSON.stringify(envelope) with `payloadJson` as its payload: createEnvelope puts the payload last, so the
 * envelope is serialized with a stand-in and the body's JSON (assembled from facts serialized once) goes in
 * its place.
 */
export function withPayload(envelope: EventEnvelope<object>, payloadJson: string): string {
  const head = JSON.stringify({ ...envelope, payload: 0 });
  if (!head.endsWith(',"payload":0}')) throw new Error("the envelope's payload is not its last member");
  return `${head.slice(0, -2)}${payloadJson}}`;
}
const SLICE = 64 * 1024;
/** Spooled events awaiting broker confirms at once (catalog batches of FACTS_PER_BATCH facts each). */
const MAX_EVENTS_IN_FLIGHT = 8;
const FACTS_PER_BATCH = 1000;
const FILENAME = /^[\p{L}\p{N}_.\-/ ]{1,200}$/u;

/** An answer to 1C: the protocol's lines, and the bytes' encoding (orders go in the peer's). */
export interface ExchangeReply {
  status: number;
  body: string | Buffer;
  contentType: string;
  /** For the access log: the error code of a refused call. */
  code?: string;
}

export interface ExchangeCall {
  peerId: string;
  type: string;
  mode: string;
  filename?: string;
  cookie?: string;
  basic?: { user: string; password: string };
  ip: string;
  body?: Buffer;
}

/** What 1C's operator reads after `failure`. */
class ExchangeFailure extends Error {
  constructor(
    message: string,
    readonly code = 'EXCHANGE_FAILED',
  ) {
    super(message);
  }
}

const text = (lines: string[], status = 200, code?: string): ExchangeReply => ({
  status,
  body: lines.join('\n'),
  contentType: 'text/plain; charset=utf-8',
  code,
});
const failure = (reason: string, code: string, status = 200) =>
  text(['failure', reason.replace(/\r?\n/g, ' ')], status, code);

/**
 * The 1C "exchange with a site" protocol (CommerceML 2), as 1C drives it: checkauth (HTTP Basic = peer id +
 * issued credential) -> session cookie; init -> zip and file_limit; file -> chunks appended to the session's
 * upload in PostgreSQL; import -> the gateway replica holding the import's lease parses the file streaming
 * (once: every event validated and spooled to a temp file, then published with broker confirms), answering `progress` until
 * done, then `success`; a bad file publishes nothing and answers `failure` with line, column and what.
 */
@Injectable()
export class ExchangeService {
  private readonly logger = new Logger('1C exchange');
  /** Imports this process is running, by id: a later `import` call waits on them. */
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly store: ExchangeStore,
    private readonly auth: PeerAuthenticator,
    private readonly directory: PeerDirectory,
    private readonly ingest: IngestService,
    private readonly config: AppConfig,
  ) {}

  /** Authenticates the call (sets nothing on failure) and answers it; `peer` is set for the access log. */
  async handle(call: ExchangeCall, seen: (peer: AuthenticatedPeer) => void): Promise<ExchangeReply> {
    try {
      if (call.mode === 'checkauth') {
        const peer = this.byBasic(call);
        seen(peer);
        const cookie = await this.store.createSession(peer.id, this.config.erp.sessionTtlMinutes);
        return text(['success', SESSION_COOKIE, cookie]);
      }
      const { peer, session } = await this.bySession(call);
      seen(peer);
      return await this.answer(call, peer, session);
    } catch (err) {
      if (err instanceof AuthError) return failure(err.message, err.code, 401);
      if (err instanceof ExchangeFailure) return failure(err.message, err.code);
      if (err instanceof DomainError) return failure(err.message, err.code);
      this.logger.error(`exchange call failed: ${(err as Error).stack ?? String(err)}`);
      return failure('internal error; it has been logged, try the exchange again', 'INTERNAL', 500);
    }
  }

  private byBasic(call: ExchangeCall): AuthenticatedPeer {
    if (!call.basic)
      throw new AuthError('AUTH_MISSING', 'checkauth needs HTTP Basic: the peer id and its credential.');
    if (call.basic.user !== call.peerId)
      throw new AuthError('AUTH_INVALID', 'The credentials were not accepted.');
    const peer = this.auth.byToken(call.basic.password, call.ip, {
      via: 'basic',
      claimedPeerId: call.peerId,
    });
    if (peer.provider !== '1c') throw new AuthError('AUTH_INVALID', 'This peer is not a 1C peer.');
    return peer;
  }

  /** Later calls: the session cookie (or HTTP Basic again, which some 1C versions send on every call). */
  private async bySession(call: ExchangeCall): Promise<{ peer: AuthenticatedPeer; session: string }> {
    if (call.cookie) {
      const s = await this.store.touchSession(call.cookie, this.config.erp.sessionTtlMinutes);
      const dir = s && s.peerId === call.peerId ? this.directory.peer(s.peerId) : undefined;
      if (s && dir && dir.status === 'active') {
        if (!dir.allowlist.allows(call.ip))
          throw new AuthError('AUTH_IP_DENIED', 'Calls from this address are not allowed.');
        return {
          session: s.hash,
          peer: {
            id: dir.id,
            kind: dir.kind,
            provider: dir.provider,
            scopes: dir.scopes,
            rateLimitPerMinute: dir.rateLimitPerMinute,
            timezone: dir.timezone,
            testDeliveries: dir.testDeliveries,
            credentialId: null,
            via: 'basic',
            expiryWarning: null,
          },
        };
      }
      if (!call.basic)
        throw new AuthError('AUTH_INVALID', 'The session has expired or is unknown; run checkauth again.');
    }
    const peer = this.byBasic(call);
    // Basic without a cookie (some 1C builds, scripts): the peer's live session, so chunks of one file meet.
    const session =
      (await this.store.latestSession(peer.id, this.config.erp.sessionTtlMinutes)) ??
      (await this.store.touchSession(
        await this.store.createSession(peer.id, this.config.erp.sessionTtlMinutes),
        this.config.erp.sessionTtlMinutes,
      ))!.hash;
    return { peer, session };
  }

  private async answer(call: ExchangeCall, peer: AuthenticatedPeer, session: string): Promise<ExchangeReply> {
    if (call.type !== 'catalog' && call.type !== 'sale') {
      throw new ExchangeFailure(`unknown type "${call.type}": expected catalog or sale`, 'VALIDATION_FAILED');
    }
    switch (call.mode) {
      case 'init':
        return text(['zip=yes', `file_limit=${this.config.erp.fileLimitBytes}`]);
      case 'file': {
        const filename = this.filename(call.filename);
        const body = call.body ?? Buffer.alloc(0);
        if (body.length === 0) throw new ExchangeFailure(`empty upload of ${filename}`, 'VALIDATION_FAILED');
        const stored = await this.store.appendChunk(
          session,
          peer.id,
          filename,
          body,
          this.config.erp.maxUploadBytes,
        );
        if (!stored) {
          throw new ExchangeFailure(
            `${filename} is over ${this.config.erp.maxUploadBytes} bytes; the upload was removed`,
            'PAYLOAD_TOO_LARGE',
          );
        }
        // 1C sends no import call for orders: they are taken as soon as the file is in.
        if (call.type === 'sale') return this.importFile(session, peer, filename, 'sale', true);
        return text(['success']);
      }
      case 'import':
        return this.importFile(session, peer, this.filename(call.filename), call.type, false);
      case 'query': {
        if (call.type !== 'sale') break;
        const orders = await this.store.unconfirmedOrders(peer.id, 500);
        const encoding = this.orderEncoding(peer.id);
        return {
          status: 200,
          body: renderOrders(orders, encoding),
          contentType: `application/xml; charset=${encoding}`,
        };
      }
      case 'success':
        if (call.type !== 'sale') break;
        await this.store.confirmOrders(peer.id);
        return text(['success']);
      case 'deactivate':
      case 'complete':
        // Newer 1C modules close a catalog session with these; nothing is pending by then.
        return text(['success']);
    }
    throw new ExchangeFailure(`unknown mode "${call.mode}" for type=${call.type}`, 'VALIDATION_FAILED');
  }

  /** The peer's own setting (PATCH /v1/admin/peers/:id `orderEncoding`), else the configuration's. */
  private orderEncoding(peerId: string): 'windows-1251' | 'utf-8' {
    const own = this.directory.peer(peerId)?.orderEncoding;
    if (own) return own;
    const configured = this.config.erp.orderEncodings[peerId];
    return configured === 'utf-8' || configured === 'windows-1251'
      ? configured
      : this.config.erp.defaultOrderEncoding;
  }

  private filename(raw: string | undefined): string {
    if (!raw || !FILENAME.test(raw) || raw.split('/').includes('..')) {
      throw new ExchangeFailure(`filename "${raw ?? ''}" is missing or not allowed`, 'VALIDATION_FAILED');
    }
    return raw;
  }

  /** Runs or continues the import of `filename`: waits up to importStepSeconds, else `progress`. */
  private async importFile(
    session: string,
    peer: AuthenticatedPeer,
    filename: string,
    type: 'catalog' | 'sale',
    untilDone: boolean,
  ): Promise<ExchangeReply> {
    const source = await this.sourceOf(session, filename);
    let imp = await this.store.importOf(session, peer.id, filename);
    if (imp.state === 'pending' || imp.state === 'running') {
      let job = this.running.get(imp.id);
      if (!job && (await this.store.claim(imp.id, this.config.erp.importLeaseSeconds))) {
        job = this.run(imp, peer, source, filename, type).finally(() => this.running.delete(imp.id));
        this.running.set(imp.id, job);
      }
      const step = untilDone ? 600_000 : this.config.erp.importStepSeconds * 1000;
      if (job) await Promise.race([job, new Promise((r) => setTimeout(r, step).unref())]);
      else await new Promise((r) => setTimeout(r, Math.min(step, 1000)));
      imp = (await this.store.readImport(imp.id)) ?? imp;
    }
    if (imp.state === 'done') return text(['success', `${imp.events} events accepted`]);
    if (imp.state === 'failed') return failure(imp.failure ?? 'import failed', 'EXCHANGE_FAILED');
    return text(['progress', `${filename}: ${imp.processed} elements read`]);
  }

  /** Where the bytes of `filename` are: its own upload, or an entry of a zip uploaded in this session. */
  private async sourceOf(session: string, filename: string): Promise<() => AsyncIterable<Buffer>> {
    const uploads = await this.store.uploads(session);
    const own = uploads.find((u) => u.filename === filename);
    const limits = {
      maxUnzippedBytes: this.config.erp.maxUnzippedBytes,
      maxRatio: this.config.erp.maxZipRatio,
      maxEntries: 10_000,
    };
    const isZip = async (id: string) =>
      (await this.store.head(id)).subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'));
    if (own) {
      if (await isZip(own.id))
        return () => zipEntry(this.store.chunks(own.id), filename.replace(/\.zip$/i, '.xml'), limits);
      return () => this.store.chunks(own.id);
    }
    for (const u of uploads) {
      if (await isZip(u.id)) return () => zipEntry(this.store.chunks(u.id), filename, limits);
    }
    throw new ExchangeFailure(`${filename} was not uploaded in this session (mode=file first)`, 'NOT_FOUND');
  }

  /**
   * One read of the file: every element is mapped and validated, and its events are serialized into a spool;
   * only when the whole file parsed cleanly is the spool published (confirmed by the broker). The import's
   * state is the outcome.
   */
  private async run(
    imp: ImportRow,
    peer: AuthenticatedPeer,
    source: () => AsyncIterable<Buffer>,
    filename: string,
    type: 'catalog' | 'sale',
  ): Promise<void> {
    let processed = 0;
    const lease = this.config.erp.importLeaseSeconds;
    const beat = setInterval(
      () => {
        void this.store.heartbeat(imp.id, lease, processed).catch(() => undefined);
      },
      (lease * 1000) / 3,
    );
    const spool = await new EventSpool().open();
    const startedAt = Date.now();
    try {
      const parsed = await this.parse(imp, peer, source, type, spool, (n) => (processed = n));
      if (parsed.mapper && parsed.mapper.hasCatalog && parsed.mapper.changesOnly !== true) {
        await this.spoolEnvelope(
          spool,
          this.ingest.prepare({
            type: ERP_EVENT_TYPES.catalogCompleted,
            peer,
            body: {
              uploadId: `1c-${imp.id}`,
              version: imp.version,
              listed: parsed.mapper.products,
              full: true,
            },
          }),
        );
      }
      const parsedAt = Date.now();
      await this.publishSpool(spool, (n) => (processed = parsed.elements + n));
      await this.store.finish(imp.id, 'done', spool.count, null);
      // The bench reads these figures (where an import's time goes).
      this.logger.log(
        `${peer.id}: ${filename} imported, ${spool.count} events, ${parsed.elements} elements; ` +
          `parse ${((parsedAt - startedAt) / 1000).toFixed(1)} s, publish ${((Date.now() - parsedAt) / 1000).toFixed(1)} s`,
      );
    } catch (err) {
      const reason =
        err instanceof XmlError
          ? `${filename}: ${err.message}`
          : err instanceof ZipRefused || err instanceof ExchangeFailure
            ? `${filename}: ${err.message}`
            : err instanceof DomainError
              ? `${filename}: ${err.message}`
              : `${filename}: internal error (${(err as Error).message})`;
      if (!(err instanceof XmlError || err instanceof ZipRefused || err instanceof DomainError)) {
        this.logger.error(`${peer.id}: ${filename} import failed: ${(err as Error).stack ?? String(err)}`);
      }
      await this.store.finish(imp.id, 'failed', 0, reason).catch(() => undefined);
    } finally {
      clearInterval(beat);
      await spool.close();
    }
  }

  private spoolEnvelope(spool: EventSpool, envelope: EventEnvelope<object>): Promise<void> {
    return spool.append(
      { id: envelope.id, type: envelope.type, traceId: envelope.traceId },
      Buffer.from(JSON.stringify(envelope)),
    );
  }

  /** Publishes the spooled events, a window of them awaiting broker confirms at a time. */
  private async publishSpool(spool: EventSpool, progress: (published: number) => void): Promise<void> {
    const inFlight = new Set<Promise<unknown>>();
    // The first publish that failed (broker gone, unconfirmed): no more are sent, and the import fails.
    const failed: { error: Error | null } = { error: null };
    let published = 0;
    for await (const { head, body } of spool.events()) {
      if (failed.error) break;
      const sent = this.ingest.publishBytes(head, body).then(
        () => progress(++published),
        (err: unknown) => (failed.error ??= err instanceof Error ? err : new Error(String(err))),
      );
      inFlight.add(sent);
      void sent.finally(() => inFlight.delete(sent));
      if (inFlight.size >= MAX_EVENTS_IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (failed.error) throw failed.error;
  }

  /** Reads the file once: maps, validates and spools its events; throws (having published nothing) on the first problem. */
  private async parse(
    imp: ImportRow,
    peer: AuthenticatedPeer,
    source: () => AsyncIterable<Buffer>,
    type: 'catalog' | 'sale',
    spool: EventSpool,
    progress: (elements: number) => void,
  ): Promise<{ elements: number; mapper: CatalogMapper | null }> {
    const mapper = type === 'catalog' ? new CatalogMapper(imp.version) : null;
    // Catalog facts travel as erp.catalog.batch events of FACTS_PER_BATCH, each fact validated on its own
    // against its single-event contract first, so a failure names its element.
    let batchSeq = 0;
    const ready: Array<{ envelope: EventEnvelope<object>; json: string }> = [];
    const batcher = new CatalogBatcher((facts) => {
      const batchId = `1c-${imp.id}:${batchSeq++}`;
      // The envelope (scope, key, trace) of the body's head; the body itself goes in as serialized.
      const envelope = this.ingest.envelope({ type: ERP_EVENT_TYPES.catalogBatch, peer, body: { batchId } });
      ready.push({ envelope, json: withPayload(envelope, catalogBatchJson(batchId, facts)) });
    }, FACTS_PER_BATCH);
    let elements = 0;
    const onEvents = (list: CmlEvent[], stream: XmlStream) => {
      for (const e of list) {
        try {
          const req = { type: e.type as EventType, peer, body: e.payload };
          if (!mapper) {
            const envelope = this.ingest.prepare(req);
            ready.push({ envelope, json: JSON.stringify(envelope) });
            continue;
          }
          const payload = this.ingest.check(req);
          batcher.add(
            e.type === ERP_EVENT_TYPES.productUpserted
              ? 'products'
              : e.type === ERP_EVENT_TYPES.priceUpdated
                ? 'prices'
                : 'stock',
            payload,
          );
        } catch (err) {
          const { line, column } = stream.position();
          if (err instanceof ContractViolation) {
            const what = err.errors.map((f) => `${f.field}: ${f.message}`).join('; ');
            throw new XmlError(line, column, `${e.what}: ${what}`);
          }
          if (err instanceof AuthError) throw new XmlError(line, column, `${e.what}: ${err.message}`);
          throw err;
        }
      }
    };
    const stream: XmlStream = new XmlStream(
      mapper ? (p) => CatalogMapper.capture(p) : captureOrderDocuments,
      (node: XmlNode) => {
        elements++;
        onEvents(mapper ? mapper.onNode(node) : [orderStatusEvent(node, imp.version)], stream);
      },
      mapper ? (name, attrs) => mapper.onOpen(name, attrs) : undefined,
    );
    if (mapper) stream.prune = (p) => CatalogMapper.prune(p);
    const drain = async () => {
      for (const { envelope, json } of ready.splice(0)) {
        await spool.append(
          { id: envelope.id, type: envelope.type, traceId: envelope.traceId },
          Buffer.from(json),
        );
      }
    };
    // A turn of the event loop after every 64 KiB parsed: a big file must not stall the gateway. Counted
    // across chunks: unzipped entries come in 16 KiB pieces, and a turn per piece cost more than the piece.
    let sinceTurn = 0;
    for await (const chunk of source()) {
      for (let at = 0; at < chunk.length; at += SLICE) {
        const slice = chunk.subarray(at, at + SLICE);
        stream.write(slice);
        sinceTurn += slice.length;
        if (sinceTurn < SLICE) continue;
        sinceTurn = 0;
        progress(elements);
        await drain();
        await new Promise((r) => setImmediate(r));
      }
    }
    stream.end();
    batcher.flush();
    await drain();
    return { elements, mapper };
  }
}
