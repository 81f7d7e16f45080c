import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiDoc } from '@switchboard/http';
import type { FastifyReply } from 'fastify';
import type { PeerRequest } from '../../auth/strategies';
import { ExchangeService, SESSION_COOKIE } from './exchange.service';

function basicOf(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function cookieOf(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === SESSION_COOKIE) return v.join('=');
  }
  return undefined;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** 1C's "exchange with a site" endpoint (the URL 1C's operator enters). Answers are the protocol's text lines. */
@Controller('v1/providers/1c')
@ApiDoc({
  tags: ['1C exchange'],
  summary:
    '1C:Enterprise “exchange with a site” (CommerceML 2): checkauth, init, file, import, query, success.',
  security: [['basic']],
  body: {
    required: false,
    raw: {
      'application/octet-stream': 'mode=file: a chunk of a CommerceML XML file or of a zip of them.',
      'application/xml': 'mode=file: a CommerceML XML file.',
    },
  },
  responses: {
    200: {
      description:
        'The protocol’s text answer: `success`, `failure`, `progress`, or the CommerceML of orders.',
      contentType: 'text/plain',
      schema: { type: 'string' },
    },
  },
})
export class ExchangeController {
  constructor(private readonly exchange: ExchangeService) {}

  @Get(':peerId/exchange')
  get(@Param('peerId') peerId: string, @Req() req: PeerRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.call(peerId, req, reply);
  }

  @Post(':peerId/exchange')
  post(@Param('peerId') peerId: string, @Req() req: PeerRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.call(peerId, req, reply);
  }

  private async call(peerId: string, req: PeerRequest, reply: FastifyReply): Promise<void> {
    const q = req.query as Record<string, unknown>;
    const body = req.rawBody ?? (Buffer.isBuffer(req.body) ? req.body : undefined);
    const answer = await this.exchange.handle(
      {
        peerId,
        type: str(q.type) ?? '',
        mode: str(q.mode) ?? '',
        filename: str(q.filename),
        cookie: cookieOf(req.headers.cookie),
        basic: basicOf(req.headers.authorization),
        ip: req.ip,
        body,
      },
      (peer) => (req.user = peer),
    );
    if (answer.code) req.problemCode = answer.code;
    if (answer.status === 401) void reply.header('WWW-Authenticate', 'Basic realm="switchboard-1c"');
    await reply.status(answer.status).header('Content-Type', answer.contentType).send(answer.body);
  }
}
