import { Injectable } from '@nestjs/common';
import { Correlation } from '@switchboard/observability';
import * as http from 'node:http';
import * as https from 'node:https';
import { AccessLogWriter } from './access-log.writer';
import { resultOf } from './access-record';

export interface OutboundOperation {
  /** The operation's name, stored as the record's service (e.g. `alerts.webhook`, `crm.contacts.push`). */
  service: string;
  /** The peer the call goes to, when it is one. */
  peerId?: string | null;
  /** The event the call carries, when it carries one. */
  eventId?: string | null;
}

export type OutboundInit = RequestInit & { timeoutMs?: number };

export const DEFAULT_OUTBOUND_TIMEOUT_MS = 10_000;

export const OutboundErrorCode = {
  TIMEOUT: 'OUTBOUND_TIMEOUT',
  UNREACHABLE: 'OUTBOUND_UNREACHABLE',
  ABORTED: 'OUTBOUND_ABORTED',
} as const;

/** Thrown when timeoutMs elapsed; says which operation, never the URL (it may carry credentials). */
export class OutboundTimeoutError extends Error {
  readonly code = OutboundErrorCode.TIMEOUT;
  constructor(service: string, timeoutMs: number) {
    super(`outbound ${service} timed out after ${timeoutMs} ms`);
    this.name = 'OutboundTimeoutError';
  }
}

/**
 * Thrown when no answer came (refused, DNS, TLS, invalid URL) or the caller aborted. The message names the
 * operation and the low-level code only: fetch's own messages may quote the URL. The original is the cause.
 */
export class OutboundError extends Error {
  constructor(
    readonly code: string,
    service: string,
    original: unknown,
  ) {
    const o = original as { cause?: { code?: unknown }; code?: unknown; name?: string };
    const low = [o?.cause?.code, o?.code, o?.name].find((v): v is string => typeof v === 'string');
    super(`outbound ${service} failed: ${low ?? 'error'}`, { cause: original });
    this.name = 'OutboundError';
  }
}

function bodyBytes(body: RequestInit['body']): number | null {
  if (body === undefined || body === null) return 0;
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof ArrayBuffer) return body.byteLength;
  if (ArrayBuffer.isView(body)) return body.byteLength;
  if (body instanceof URLSearchParams) return Buffer.byteLength(body.toString());
  if (typeof Blob !== 'undefined' && body instanceof Blob) return body.size;
  return null; // streams, FormData: unknown up front
}

function contentLength(res: Response): number | null {
  const v = res.headers.get('content-length');
  const n = v === null ? NaN : Number(v);
  return Number.isInteger(n) && n >= 0 ? n : null;
}

/**
 * Every call Switchboard makes to another system goes through here: global fetch with a deadline
 * (timeoutMs, default 10 s, covering the whole exchange including the body) and one outbound access-log
 * record (operation, method, status, result, duration, bytes, correlation id). URLs and headers are never
 * recorded: the operation name identifies the call.
 */
/** What post() answers: the status and the headers a caller decides on; the body is read and dropped. */
export interface OutboundPostResult {
  status: number;
  header(name: string): string | null;
}

// Keep-alive pools for post(): a sender with many requests in flight reuses its connections.
const AGENT_OPTIONS = { keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' as const };
const httpAgent = new http.Agent(AGENT_OPTIONS);
const httpsAgent = new https.Agent(AGENT_OPTIONS);

@Injectable()
export class OutboundHttp {
  constructor(private readonly writer: AccessLogWriter) {}

  /**
   * A POST whose answer matters only by its status and headers (webhook deliveries): node:http with a
   * keep-alive agent instead of fetch, about half the CPU per call at a thousand calls a second (see README
   * "Outbound webhooks"). Same deadline, same one access-log record, same errors as fetch().
   */
  post(
    op: OutboundOperation,
    url: string,
    init: { headers: Record<string, string>; body: string; timeoutMs?: number },
  ): Promise<OutboundPostResult> {
    const timeoutMs = init.timeoutMs ?? DEFAULT_OUTBOUND_TIMEOUT_MS;
    const startedAt = new Date();
    const t0 = process.hrtime.bigint();
    const body = Buffer.from(init.body);
    const record = (r: {
      result: ReturnType<typeof resultOf> | 'failed';
      httpStatus: number | null;
      errorCode: string | null;
      bytesIn: number | null;
    }) =>
      this.writer.record({
        direction: 'outbound',
        peerId: op.peerId ?? null,
        service: op.service,
        method: 'POST',
        startedAt,
        eventId: op.eventId ?? null,
        clientIp: null,
        bytesOut: body.length,
        correlationId: Correlation.id() ?? null,
        bodyHash: null,
        body: null,
        durationMs: Number(process.hrtime.bigint() - t0) / 1e6,
        ...r,
      });
    return new Promise((resolve, reject) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch (err) {
        record({
          result: 'failed',
          httpStatus: null,
          errorCode: OutboundErrorCode.UNREACHABLE,
          bytesIn: null,
        });
        return reject(new OutboundError(OutboundErrorCode.UNREACHABLE, op.service, err));
      }
      const secure = target.protocol === 'https:';
      let settled = false;
      const req = (secure ? https : http).request(
        target,
        {
          method: 'POST',
          agent: secure ? httpsAgent : httpAgent,
          headers: { ...init.headers, 'content-length': String(body.length) },
        },
        (res) => {
          let bytesIn = 0;
          res.on('data', (c: Buffer) => (bytesIn += c.length));
          res.on('end', () => {
            clearTimeout(timer);
            if (settled) return;
            settled = true;
            const status = res.statusCode ?? 0;
            record({ result: resultOf(status), httpStatus: status, errorCode: null, bytesIn });
            resolve({
              status,
              header: (name) => {
                const v = res.headers[name.toLowerCase()];
                return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
              },
            });
          });
          res.on('error', fail);
        },
      );
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        req.destroy();
        record({ result: 'failed', httpStatus: null, errorCode: OutboundErrorCode.TIMEOUT, bytesIn: null });
        reject(new OutboundTimeoutError(op.service, timeoutMs));
      }, timeoutMs);
      timer.unref();
      function fail(err: Error) {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        record({
          result: 'failed',
          httpStatus: null,
          errorCode: OutboundErrorCode.UNREACHABLE,
          bytesIn: null,
        });
        reject(new OutboundError(OutboundErrorCode.UNREACHABLE, op.service, err));
      }
      req.on('error', fail);
      req.end(body);
    });
  }

  async fetch(op: OutboundOperation, url: string, init: OutboundInit = {}): Promise<Response> {
    const { timeoutMs = DEFAULT_OUTBOUND_TIMEOUT_MS, ...rest } = init;
    const method = (rest.method ?? 'GET').toUpperCase();
    const startedAt = new Date();
    const t0 = process.hrtime.bigint();
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new OutboundTimeoutError(op.service, timeoutMs)), timeoutMs);
    timer.unref();
    const signal = rest.signal ? AbortSignal.any([rest.signal, timeout.signal]) : timeout.signal;
    const base = {
      direction: 'outbound' as const,
      peerId: op.peerId ?? null,
      service: op.service,
      method,
      startedAt,
      eventId: op.eventId ?? null,
      clientIp: null,
      bytesOut: bodyBytes(rest.body),
      correlationId: Correlation.id() ?? null,
      bodyHash: null,
      body: null,
    };
    const elapsed = () => Number(process.hrtime.bigint() - t0) / 1e6;
    let res: Response;
    try {
      res = await fetch(url, { ...rest, method, signal });
    } catch (err) {
      clearTimeout(timer);
      const timedOut = timeout.signal.aborted;
      const code = timedOut
        ? OutboundErrorCode.TIMEOUT
        : rest.signal?.aborted
          ? OutboundErrorCode.ABORTED
          : OutboundErrorCode.UNREACHABLE;
      this.writer.record({
        ...base,
        durationMs: elapsed(),
        result: 'failed',
        httpStatus: null,
        errorCode: code,
        bytesIn: null,
      });
      if (timedOut) throw timeout.signal.reason as Error;
      throw new OutboundError(code, op.service, err);
    }
    // The deadline stays armed until the caller has read the body (or the timer fires harmlessly).
    this.writer.record({
      ...base,
      durationMs: elapsed(),
      result: resultOf(res.status),
      httpStatus: res.status,
      errorCode: null,
      bytesIn: contentLength(res),
    });
    return res;
  }
}
