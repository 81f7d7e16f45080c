import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { AuthError, DomainError, ContractViolation, ErrorCode, OtpError } from '@switchboard/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Observable, throwError } from 'rxjs';
import { problem, ProblemDetails } from './problem';

/** Fastify's own errors (body parsing, limits) by code. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ErrorCode.PAYLOAD_TOO_LARGE,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ErrorCode.MALFORMED_BODY,
  FST_ERR_CTP_EMPTY_JSON_BODY: ErrorCode.MALFORMED_BODY,
  FST_ERR_CTP_INVALID_JSON_BODY: ErrorCode.MALFORMED_BODY,
  FST_ERR_BAD_URL: ErrorCode.NOT_FOUND,
  FST_ERR_MAX_PARAM_LENGTH: ErrorCode.NOT_FOUND,
};

const HTTP_STATUS_CODES: Record<number, ErrorCode> = {
  400: ErrorCode.MALFORMED_BODY,
  401: ErrorCode.AUTH_MISSING,
  404: ErrorCode.NOT_FOUND,
  405: ErrorCode.METHOD_NOT_ALLOWED,
  413: ErrorCode.PAYLOAD_TOO_LARGE,
  415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
};

const logger = new Logger('ProblemFilter');

/** Translates anything thrown into problem+json. Internals (stacks, SQL, broker errors) never leak. */
export function toProblem(error: unknown, instance?: string, traceId?: string): ProblemDetails {
  const extra = { instance, traceId };
  if (error instanceof ContractViolation)
    return problem(error.code, error.message, {
      ...extra,
      errors: error.errors,
      errorCount: error.errorCount,
    });
  if ((error instanceof AuthError || error instanceof OtpError) && error.retryAfterSeconds !== undefined)
    return problem(error.code, error.message, { ...extra, retryAfter: error.retryAfterSeconds });
  if (error instanceof DomainError) return problem(error.code, error.message, extra);
  const fastifyCode = (error as { code?: string })?.code;
  if (fastifyCode && FASTIFY_CODES[fastifyCode]) {
    const code = FASTIFY_CODES[fastifyCode];
    const detail =
      code === ErrorCode.MALFORMED_BODY
        ? 'The body is not valid JSON.'
        : code === ErrorCode.NOT_FOUND
          ? `No route ${instance ?? ''}`
          : (error as Error).message || undefined;
    return problem(code, detail, extra);
  }
  if (error instanceof SyntaxError && (error as { statusCode?: number }).statusCode === 400) {
    return problem(ErrorCode.MALFORMED_BODY, 'The body is not valid JSON.', extra);
  }
  if (error instanceof HttpException) {
    const code = HTTP_STATUS_CODES[error.getStatus()];
    if (code)
      return problem(code, code === ErrorCode.NOT_FOUND ? `No route ${instance ?? ''}` : undefined, extra);
  }
  const statusCode = (error as { statusCode?: number })?.statusCode;
  if (statusCode && HTTP_STATUS_CODES[statusCode])
    return problem(HTTP_STATUS_CODES[statusCode], undefined, extra);
  logger.error({ message: 'unhandled error', error: error instanceof Error ? error.stack : String(error) });
  return problem(ErrorCode.INTERNAL, 'An internal error occurred; it has been logged.', extra);
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The `code` of the problem+json answer, when the request got one (read by the access log). */
    problemCode?: string;
  }
}

export function sendProblem(reply: FastifyReply, details: ProblemDetails): void {
  const { retryAfter, ...body } = details;
  if (reply.request) reply.request.problemCode = body.code;
  if (body.status === 401) void reply.header('WWW-Authenticate', 'Bearer, Basic realm="switchboard"');
  if (retryAfter !== undefined) void reply.header('Retry-After', String(Math.max(1, Math.ceil(retryAfter))));
  else if (body.status === 503) void reply.header('Retry-After', '1');
  void reply.status(body.status).header('Content-Type', 'application/problem+json').send(body);
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost): Observable<never> | void {
    // AMQP handlers: the transport's error policy needs the original error (code, permanence), which Nest's
    // default RPC filter would replace with a generic object.
    if (host.getType() !== 'http') return throwError(() => error);
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    sendProblem(reply, toProblem(error, req.url?.split('?')[0], String(req.id)));
  }
}
