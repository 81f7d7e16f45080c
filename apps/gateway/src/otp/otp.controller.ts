import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { AuthError } from '@switchboard/contracts';
import {
  OtpStore,
  parseIssueBody,
  parseVerifyBody,
  type IssuedOtp,
  type VerifiedOtp,
} from '@switchboard/notifications';
import { scopeAllows, type AuthenticatedPeer } from '@switchboard/peer-auth';
import type { FastifyRequest } from 'fastify';
import { Peer, PeerAuthGuard } from '../auth/peer-auth.guard';

/** The scope a site needs for one-time codes (a site peer's default `website.*` covers it). */
export const OTP_SCOPE = 'website.otp';

function allowed(peer: AuthenticatedPeer): void {
  if (!scopeAllows(peer.scopes, OTP_SCOPE))
    throw new AuthError('AUTH_SCOPE_DENIED', `This peer may not use one-time codes (scope ${OTP_SCOPE}).`);
}

/**
 * One-time codes for a site's customers (login, order hand-over, confirmations). Synchronous, unlike event
 * ingest: the site needs the otpId now and the verdict now, so these routes answer from PostgreSQL; sending is
 * apps/outbound's job, from the row written here in the same transaction as the code.
 */
@Controller('v1/otp')
@UseGuards(PeerAuthGuard)
export class OtpController {
  constructor(private readonly otp: OtpStore) {}

  @Post()
  @HttpCode(201)
  issue(
    @Body() body: unknown,
    @Peer() peer: AuthenticatedPeer,
    @Req() req: FastifyRequest,
  ): Promise<IssuedOtp> {
    allowed(peer);
    return this.otp.issue(peer.id, req.ip ?? null, parseIssueBody(body));
  }

  @Post('verify')
  @HttpCode(200)
  verify(@Body() body: unknown, @Peer() peer: AuthenticatedPeer): Promise<VerifiedOtp> {
    allowed(peer);
    return this.otp.verify(peer.id, parseVerifyBody(body));
  }
}
