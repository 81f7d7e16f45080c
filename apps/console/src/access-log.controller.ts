import { Roles } from './operators/operator';
import { Controller, Delete, Get, Logger, Query, Res, UseGuards } from '@nestjs/common';
import { AccessLogPartitions } from '@switchboard/access-log';
import type { FastifyReply } from 'fastify';
import { CONTENT_TYPES, exportFilename, startExport } from './access-log-export';
import {
  AccessLogQueryService,
  parseAccessLogExport,
  parseAccessLogRange,
  parseAuditLimit,
} from './access-log-query.service';
import { OperatorGuard } from './operators/operator.guard';
import { RawQuery } from './call-query.service';

const ACTOR = 'admin-api';

/** The interface access log for operators: search, export (backup), deletion of a range, its audit trail. */
@Controller('v1/admin/access-log')
@UseGuards(OperatorGuard)
@Roles('admin', 'auditor')
export class AccessLogController {
  private readonly logger = new Logger(AccessLogController.name);

  constructor(
    private readonly query: AccessLogQueryService,
    private readonly partitions: AccessLogPartitions,
  ) {}

  /** Newest first; `nextCursor` continues where the page ended. */
  @Get()
  search(@Query() q: RawQuery) {
    return this.query.search(q ?? {});
  }

  /**
   * Streams every matching record (newest first) as NDJSON or CSV, one keyset page at a time. The parameters
   * are checked and the first page read before the first byte, so a bad one is still a 400 problem+json; an
   * error after that cuts the transfer short (the client sees an incomplete chunked response, never a
   * silently shorter file).
   */
  @Get('export')
  async export(@Query() q: RawQuery, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const { filter, format } = parseAccessLogExport(q ?? {});
    const stream = await startExport(this.query, filter, format);
    stream.on('error', (err: Error) =>
      this.logger.error({ message: 'access log export failed', error: err.message }),
    );
    return reply
      .header('Content-Type', CONTENT_TYPES[format])
      .header('Content-Disposition', `attachment; filename=${exportFilename(filter, format)}`)
      .header('Cache-Control', 'no-store')
      .send(stream);
  }

  /** Declared before any `:param` route would be, so "audit" is never read as one. */
  @Get('audit')
  async audit(@Query() q: RawQuery) {
    return { items: await this.query.audit(parseAuditLimit(q ?? {})) };
  }

  /** Deletes [from, to): whole day partitions are dropped, the rest deleted row by row; audited. */
  @Delete()
  async remove(@Query() q: RawQuery) {
    const { from, to } = parseAccessLogRange(q ?? {});
    return { deleted: await this.partitions.deleteRange(from, to, ACTOR) };
  }
}
