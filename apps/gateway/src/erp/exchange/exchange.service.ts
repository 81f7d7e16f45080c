import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { AuthError, DomainError, ERP_EVENT_TYPES, type EventType } from '@switchboard/contracts';
import { Correlation } from '@switchboard/observability';
import {
  PeerAuthenticator,
  PeerDirectory,
  scopeAllows,
  type AuthenticatedPeer,
} from '@switchboard/peer-auth';
import { IngestService } from '../../ingest.service';
import { XmlError } from '../xml';
import { EventSpool } from './event-spool';
import { ExchangeStore, type ImportRow } from './exchange.store';
import { parseExchangeFile, type ParseHooks, type ParseJob } from './file-parse';
import { parseInWorker } from './parse-in-worker';
import { renderOrders } from './sale-document';
import { zipEntry, zipEntryNames, ZipRefused } from './zip-entry';

export const SESSION_COOKIE = 'sb1c_session';

/** Spooled events awaiting broker confirms at once (catalog batches of FACTS_PER_BATCH facts each). */
const MAX_EVENTS_IN_FLIGHT = 4;
/** What a 1C file may produce (its peer's scopes decide which of them it may send). */
const ERP_TYPES: EventType[] = Object.values(ERP_EVENT_TYPES);
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
        const run = this.run(imp, peer, source, filename, type);
        job = this.track(imp.id, run);
        if (type === 'catalog') void this.parseAhead(session, peer, filename, run);
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

  private track(id: string, run: Promise<boolean>): Promise<void> {
    const job = run.then(() => undefined).finally(() => this.running.delete(id));
    this.running.set(id, job);
    return job;
  }

  /**
   * The session's other catalog files, parsed while `first` is imported: 1C asks for import.xml, waits for
   * `success`, then asks for offers.xml, so parsing offers.xml only then leaves the second core idle for as long
   * as import.xml takes. Each file here is claimed like an import (its lease, its state), parsed on its worker
   * thread, one at a time, and published only after the file before it was published (1C's order); if that one
   * failed, the claim is given back and nothing of the file is published.
   */
  private async parseAhead(
    session: string,
    peer: AuthenticatedPeer,
    filename: string,
    first: Promise<boolean>,
  ): Promise<void> {
    try {
      let previous = first;
      for (const name of await this.catalogFiles(session)) {
        if (name === filename) continue;
        const imp = await this.store.importOf(session, peer.id, name);
        if (imp.state !== 'pending') continue;
        const source = await this.sourceOf(session, name);
        if (!(await this.store.claim(imp.id, this.config.erp.importLeaseSeconds))) continue;
        const run = this.run(imp, peer, source, name, 'catalog', previous);
        await this.track(imp.id, run);
        previous = run;
      }
    } catch (err) {
      // Only a head start: the files are imported when 1C asks for them whatever happened here.
      this.logger.warn(`${peer.id}: parsing ahead of ${filename} stopped: ${(err as Error).message}`);
    }
  }

  /** The XML files of a session's uploads, in upload order: plain uploads and the entries of zips. */
  private async catalogFiles(session: string): Promise<string[]> {
    const names: string[] = [];
    for (const u of await this.store.uploads(session)) {
      if (await this.isZip(u.id))
        names.push(...(await zipEntryNames(this.store.chunks(u.id), this.zipLimits())));
      else names.push(u.filename);
    }
    return [...new Set(names.filter((n) => /\.xml$/i.test(n) && FILENAME.test(n)))];
  }

  private zipLimits() {
    return {
      maxUnzippedBytes: this.config.erp.maxUnzippedBytes,
      maxRatio: this.config.erp.maxZipRatio,
      maxEntries: 10_000,
    };
  }

  private async isZip(uploadId: string): Promise<boolean> {
    return (await this.store.head(uploadId)).subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'));
  }

  /** Where the bytes of `filename` are: its own upload, or an entry of a zip uploaded in this session. */
  private async sourceOf(session: string, filename: string): Promise<() => AsyncIterable<Buffer>> {
    const uploads = await this.store.uploads(session);
    const own = uploads.find((u) => u.filename === filename);
    const limits = this.zipLimits();
    const isZip = (id: string) => this.isZip(id);
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
   * One read of the file (parseExchangeFile: every element mapped and validated, its events serialized into a
   * spool); only when the whole file parsed cleanly is the spool published (confirmed by the broker). A catalog
   * is parsed on a worker thread, an orders file (small) here. The import's state is the outcome.
   */
  private async run(
    imp: ImportRow,
    peer: AuthenticatedPeer,
    source: () => AsyncIterable<Buffer>,
    filename: string,
    type: 'catalog' | 'sale',
    publishAfter?: Promise<boolean>,
  ): Promise<boolean> {
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
      const job: ParseJob = {
        type,
        importId: imp.id,
        version: imp.version,
        peerId: peer.id,
        allowed: ERP_TYPES.filter((t) => scopeAllows(peer.scopes, t)),
        traceId: Correlation.id() ?? 'none',
      };
      const hooks: ParseHooks = {
        progress: (n) => (processed = n),
        refused: (t, result) => this.ingest.refused(t, result),
      };
      const parsed =
        type === 'catalog'
          ? await parseInWorker(job, source(), spool, hooks)
          : await parseExchangeFile(job, source(), spool, hooks);
      const parsedAt = Date.now();
      if (publishAfter && !(await publishAfter)) {
        await this.store.release(imp.id);
        return false;
      }
      const publishAt = Date.now();
      await this.publishSpool(spool, (n) => (processed = parsed.elements + n));
      await this.store.finish(imp.id, 'done', spool.count, null);
      // The bench reads these figures (where an import's time goes).
      this.logger.log(
        `${peer.id}: ${filename} imported, ${spool.count} events, ${parsed.elements} elements; ` +
          `parse ${((parsedAt - startedAt) / 1000).toFixed(1)} s, publish ${((Date.now() - publishAt) / 1000).toFixed(1)} s`,
      );
      return true;
    } catch (err) {
      const reason =
        err instanceof XmlError
          ? `${filename}: ${err.message}`
          : err instanceof ZipRefused || err instanceof ExchangeFailure
            ? `${filename}: ${err.message}`
            : err instanceof DomainError
              ? `${filename}: ${err.message}`
              : `${filename}: internal error (${(err as Error).message.split('\n')[0]})`;
      if (!(err instanceof XmlError || err instanceof ZipRefused || err instanceof DomainError)) {
        this.logger.error(`${peer.id}: ${filename} import failed: ${(err as Error).stack ?? String(err)}`);
      }
      await this.store.finish(imp.id, 'failed', 0, reason).catch(() => undefined);
      return false;
    } finally {
      clearInterval(beat);
      await spool.close();
    }
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
}
