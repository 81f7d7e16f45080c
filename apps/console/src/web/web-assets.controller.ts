import { Controller, Get, Header } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { viewsDir } from './web-views';

/** Read once at start: two small files, served from memory. */
const CSS = readFileSync(join(viewsDir(), 'static/console.css'), 'utf8');
// htmx from the installed package (no CDN): the console works offline and behind strict egress rules.
const HTMX = readFileSync(require.resolve('htmx.org/dist/htmx.min.js'), 'utf8');

/** The console's static assets; public (no data in them), cached for an hour. */
@Controller('console/static')
export class WebAssetsController {
  @Get('console.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'public, max-age=3600')
  css(): string {
    return CSS;
  }

  @Get('htmx.min.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'public, max-age=3600')
  htmx(): string {
    return HTMX;
  }
}
