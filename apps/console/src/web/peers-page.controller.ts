import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { validateContract } from '@switchboard/contracts';
import {
  CreatePeerDto,
  IssueCredentialDto,
  PEER_KINDS,
  PEER_PROVIDERS,
  PeerAdmin,
} from '@switchboard/peer-auth';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { Roles } from '../operators/operator';
import { Html, seeOther, WebPages } from './web-page';
import { field, pageOf, WebRequest } from './web-request';
import { PAGE_ROLES, WebViews } from './web-views';

/** The actor recorded in the peer audit for actions taken on these pages. */
const actorOf = (req: WebRequest) => `operator:${req.operator?.id ?? 'unknown'}:web`;

/** When each peer last had a call accepted (the newest row per peer on access_log_by_peer). */
const LAST_SEEN_SQL = `
  SELECT p.id, last.started_at AS last_seen_at
    FROM peers p
    LEFT JOIN LATERAL (
      SELECT a.started_at FROM access_log a
       WHERE a.peer_id = p.id AND a.direction = 'inbound' AND a.result = 'accepted'
       ORDER BY a.started_at DESC LIMIT 1
    ) last ON true`;

/** Peers: create (the token is shown once, in the answer to the form), rotate, revoke, last seen. */
@Controller('console/peers')
@WebPages()
@Roles(...PAGE_ROLES.peers)
export class PeersPageController {
  constructor(
    private readonly views: WebViews,
    private readonly admin: PeerAdmin,
    private readonly ds: DataSource,
  ) {}

  @Get()
  @Html()
  async list(@Req() req: WebRequest): Promise<string> {
    const [peers, seen] = await Promise.all([
      this.admin.list(),
      this.ds.query<Array<{ id: string; last_seen_at: Date | null }>>(LAST_SEEN_SQL),
    ]);
    const lastSeen = new Map(seen.map((s) => [s.id, s.last_seen_at]));
    return this.views.render('pages/peers.njk', pageOf(req), {
      title: 'Peers',
      peers: peers.map((p) => ({ ...p, lastSeenAt: lastSeen.get(p.id) ?? null })),
      kinds: PEER_KINDS,
      providers: PEER_PROVIDERS,
    });
  }

  /** Answers the page itself (not a redirect): the only time the token can be shown. */
  @Post()
  @HttpCode(201)
  @Html()
  async create(@Req() req: WebRequest, @Body() body: unknown): Promise<string> {
    const scopes = field(body, 'scopes')
      .split(/[\s,]+/)
      .filter(Boolean);
    const dto = validateContract(CreatePeerDto, {
      ...(field(body, 'id') ? { id: field(body, 'id') } : {}),
      name: field(body, 'name'),
      kind: field(body, 'kind'),
      ...(field(body, 'provider') ? { provider: field(body, 'provider') } : {}),
      scopes,
    });
    const { peer, credential } = await this.admin.create(dto, actorOf(req));
    return this.detail(req, peer.id, credential);
  }

  @Get(':id')
  @Html()
  show(@Req() req: WebRequest, @Param('id') id: string): Promise<string> {
    return this.detail(req, id, null);
  }

  @Post(':id/rotate')
  @HttpCode(201)
  @Html()
  async rotate(@Req() req: WebRequest, @Param('id') id: string, @Body() body: unknown): Promise<string> {
    const days = field(body, 'expiresInDays');
    const dto = validateContract(IssueCredentialDto, {
      ...(days ? { expiresInDays: Number(days) } : {}),
      revokeOld: field(body, 'revokeOld') === 'on',
    });
    const credential = await this.admin.issueCredential(id, actorOf(req), {
      expiresInDays: dto.expiresInDays,
      revokeOld: dto.revokeOld,
    });
    return this.detail(req, id, credential);
  }

  @Post(':id/credentials/:credentialId/revoke')
  async revoke(
    @Req() req: WebRequest,
    @Param('id') id: string,
    @Param('credentialId') credentialId: string,
    @Res() reply: FastifyReply,
  ) {
    await this.admin.revokeCredential(id, credentialId, actorOf(req));
    return seeOther(reply, `/console/peers/${encodeURIComponent(id)}`);
  }

  private async detail(req: WebRequest, id: string, issued: unknown): Promise<string> {
    const [peer, audit, seen] = await Promise.all([
      this.admin.get(id),
      this.admin.auditLog(id, 20),
      this.ds.query<Array<{ last_seen_at: Date | null }>>(`${LAST_SEEN_SQL} WHERE p.id = $1`, [id]),
    ]);
    return this.views.render('pages/peer.njk', pageOf(req), {
      title: `Peer ${peer.name}`,
      peer,
      audit,
      lastSeenAt: seen[0]?.last_seen_at ?? null,
      issued,
    });
  }
}
