import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { CONTENT_TYPES, exportFilename, startExport } from '../access-log-export';
import { AccessLogQueryService, parseAccessLogExport } from '../access-log-query.service';
import { Roles } from '../operators/operator';
import { Html, WebPages } from './web-page';
import { formQuery, pageOf, WebRequest } from './web-request';
import { PAGE_ROLES, queryString, WebViews } from './web-views';

const PAGE_SIZE = '50';

/** The interface access log: the API's search and export behind a form. */
@Controller('console/access-log')
@WebPages()
@Roles(...PAGE_ROLES.accessLog)
export class AccessLogPageController {
  constructor(
    private readonly views: WebViews,
    private readonly query: AccessLogQueryService,
  ) {}

  @Get()
  @Html()
  async search(@Req() req: WebRequest, @Query() raw: unknown): Promise<string> {
    const form = (raw ?? {}) as Record<string, string>;
    const q = formQuery(raw);
    const page = await this.query.search({ limit: PAGE_SIZE, ...q });
    const { cursor: _cursor, ...filters } = q;
    return this.views.render('pages/access-log.njk', pageOf(req), {
      title: 'Access log',
      form,
      items: page.items,
      next: page.nextCursor
        ? `/console/access-log${queryString({ ...form, cursor: page.nextCursor })}`
        : null,
      exportCsv: `/console/access-log/export${queryString({ ...filters, format: 'csv' })}`,
      exportNdjson: `/console/access-log/export${queryString({ ...filters, format: 'ndjson' })}`,
    });
  }

  /** The same stream as GET /v1/admin/access-log/export (CSV or NDJSON), as a download. */
  @Get('export')
  async export(@Query() raw: unknown, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const { filter, format } = parseAccessLogExport(formQuery(raw));
    const stream = await startExport(this.query, filter, format);
    return reply
      .header('content-type', CONTENT_TYPES[format])
      .header('content-disposition', `attachment; filename=${exportFilename(filter, format)}`)
      .send(stream);
  }
}
