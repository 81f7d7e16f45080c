import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/** Pages only, not the JSON API (which keeps its own caching and content rules). */
const isPage = (url: string) => url.startsWith('/console/') || url === '/console';

/**
 * What the web console needs from the HTTP server, installed before the app initializes. HTML form bodies
 * (application/x-www-form-urlencoded) need nothing: Nest's Fastify adapter already parses them. The security
 * headers of every page: a Content-Security-Policy allowing only the console's own files (no
 * inline script, no CDN), no framing, no sniffing, and no caching of pages that carry personal data.
 */
export function installWebConsole(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onSend', (req, reply, payload, done) => {
    if (isPage(req.url)) {
      void reply.header(
        'content-security-policy',
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      );
      void reply.header('x-content-type-options', 'nosniff');
      void reply.header('referrer-policy', 'same-origin');
      if (!req.url.startsWith('/console/static/')) void reply.header('cache-control', 'no-store');
    }
    done(null, payload);
  });
}
