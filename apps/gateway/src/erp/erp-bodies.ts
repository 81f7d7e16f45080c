import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';

export const XML_TYPES = ['application/xml', 'text/xml'] as const;

/**
 * Raw-byte bodies for the ERP routes only: XML (UBL) on `xmlRoute`, and anything 1C sends (file chunks, plain
 * or zip, under any or no content type) below `exchangePrefix`, each up to its own limit. Fastify parsers are
 * global, so every other route keeps answering these types with 415 as before.
 */
export function acceptErpBodies(
  fastify: FastifyInstance,
  opts: { xmlRoute: string; exchangePrefix: string; xmlLimitBytes: number; chunkLimitBytes: number },
): void {
  const keep = (req: FastifyRequest, body: Buffer) => {
    (req as FastifyRequest & { rawBody?: Buffer }).rawBody = body;
    return body;
  };
  const route = (req: FastifyRequest) => req.routeOptions.url ?? '';
  const xml = XML_TYPES.filter((t) => !fastify.hasContentTypeParser(t));
  if (xml.length) {
    fastify.addContentTypeParser(
      [...xml],
      { parseAs: 'buffer', bodyLimit: Math.max(opts.xmlLimitBytes, opts.chunkLimitBytes) },
      (req, body, done) => {
        const url = route(req);
        const limit = url === opts.xmlRoute ? opts.xmlLimitBytes : opts.chunkLimitBytes;
        if (url !== opts.xmlRoute && !url.startsWith(opts.exchangePrefix)) {
          done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(req.headers['content-type']), undefined);
        } else if ((body as Buffer).length > limit) {
          done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), undefined);
        } else done(null, keep(req, body as Buffer));
      },
    );
  }
  if (!fastify.hasContentTypeParser('*')) {
    fastify.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: opts.chunkLimitBytes },
      (req, body, done) => {
        if (!route(req).startsWith(opts.exchangePrefix)) {
          done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(req.headers['content-type']), undefined);
          return;
        }
        done(null, keep(req, body as Buffer));
      },
    );
  }
}
