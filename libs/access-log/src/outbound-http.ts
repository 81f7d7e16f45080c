import { Injectable } from '@nestjs/common';
import { Correlation } from '@switchboard/observability';
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
@Injectable()
export class OutboundHttp {
  constructor(private readonly writer: AccessLogWriter) {}

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
