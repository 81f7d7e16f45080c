import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ContractViolation } from '@switchboard/contracts';
import type { FastifyReply } from 'fastify';
import { Roles } from '../operators/operator';
import { DEAD_LETTER_PAGE, DeadLettersService, MAX_REPLAY } from './dead-letters.service';
import { Html, seeOther, WebPages } from './web-page';
import { field, pageOf, WebRequest } from './web-request';
import { PAGE_ROLES, WebViews } from './web-views';

/** Dead letters per connector with their error, and replay once the cause is fixed. */
@Controller('console/dead-letters')
@WebPages()
@Roles(...PAGE_ROLES.deadLetters)
export class DeadLettersPageController {
  constructor(
    private readonly views: WebViews,
    private readonly dead: DeadLettersService,
  ) {}

  @Get()
  @Html()
  async list(@Req() req: WebRequest, @Query() q: Record<string, unknown>): Promise<string> {
    const connectors = await Promise.all(
      this.dead.connectors().map(async (name) => ({ name, letters: await this.dead.list(name) })),
    );
    const replayed = typeof q?.replayed === 'string' ? Number(q.replayed) : null;
    return this.views.render('pages/dead-letters.njk', pageOf(req), {
      title: 'Dead letters',
      connectors,
      pageSize: DEAD_LETTER_PAGE,
      maxReplay: MAX_REPLAY,
      notice:
        replayed !== null && Number.isInteger(replayed) && typeof q.connector === 'string'
          ? { replayed, connector: q.connector }
          : null,
    });
  }

  /** Replays the oldest `count` dead letters of the connector (all listed ones by default). */
  @Post(':connector/replay')
  async replay(@Param('connector') connector: string, @Body() body: unknown, @Res() reply: FastifyReply) {
    const raw = field(body, 'count') || String(DEAD_LETTER_PAGE);
    const count = Number(raw);
    if (!Number.isInteger(count) || count < 1 || count > MAX_REPLAY)
      throw new ContractViolation([
        { field: 'count', rule: 'range', message: `count must be a whole number 1-${MAX_REPLAY}` },
      ]);
    const replayed = await this.dead.replay(connector, count);
    const q = new URLSearchParams({ replayed: String(replayed.length), connector });
    return seeOther(reply, `/console/dead-letters?${q.toString()}#${connector}`);
  }
}
