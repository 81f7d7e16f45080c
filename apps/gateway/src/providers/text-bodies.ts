import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';

/** Text bodies a provider sends (Asterisk ships cdr_csv lines as text/csv); JSON and forms are parsed already. */
export const PROVIDER_TEXT_TYPES = ['text/csv', 'text/plain'] as const;

/**
 * Accepts PROVIDER_TEXT_TYPES on provider routes only, keeping the raw bytes for the signature check. Fastify
 * parsers are global, so every other route keeps refusing these types with 415 as before (peers' JSON routes
 * must not see a string body). Call before the server starts listening.
 */
export function acceptProviderTextBodies(fastify: FastifyInstance, routePrefix: string): void {
  const types = PROVIDER_TEXT_TYPES.filter((t) => !fastify.hasContentTypeParser(t));
  if (!types.length) return;
  fastify.addContentTypeParser(types, { parseAs: 'buffer' }, (req, body, done) => {
    if (!(req.routeOptions.url ?? '').startsWith(routePrefix)) {
      done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(req.headers['content-type']), undefined);
      return;
    }
    const raw = body as Buffer;
    (req as FastifyRequest & { rawBody?: Buffer }).rawBody = raw;
    done(null, raw.toString('utf8'));
  });
}
