import { Roles } from './operators/operator';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { validateContract } from '@switchboard/contracts';
import { CreatePeerDto, IssueCredentialDto, PeerAdmin, UpdatePeerDto } from '@switchboard/peer-auth';
import { OperatorGuard } from './operators/operator.guard';
import { limitOf, RawQuery, single } from './query-params';

const OPERATOR = 'operator:console';

/** Peers and their credentials. Secrets appear only in the response that issues them. */
@Controller('v1/admin/peers')
@UseGuards(OperatorGuard)
@Roles('admin', 'auditor')
export class PeersController {
  constructor(private readonly admin: PeerAdmin) {}

  @Post()
  @HttpCode(201)
  create(@Body() body: unknown) {
    return this.admin.create(validateContract(CreatePeerDto, body), OPERATOR);
  }

  @Get()
  async list() {
    return { items: await this.admin.list() };
  }

  @Get(':id')
  show(@Param('id') id: string) {
    return this.admin.get(id);
  }

  @Patch(':id')
  update(@Param('id') id: string, @Body() body: unknown) {
    return this.admin.update(id, validateContract(UpdatePeerDto, body), OPERATOR);
  }

  /**
   * Issues a new credential; live ones retire after the overlap window, or are revoked at once with
   * `{"revokeOld": true}` (a suspected leak).
   */
  @Post(':id/credentials')
  @HttpCode(201)
  issue(@Param('id') id: string, @Body() body: unknown) {
    const dto = validateContract(IssueCredentialDto, body ?? {});
    return this.admin.issueCredential(id, OPERATOR, {
      expiresInDays: dto.expiresInDays,
      revokeOld: dto.revokeOld,
    });
  }

  /** Revokes at once: every gateway refuses it within milliseconds (NOTIFY). */
  @Delete(':id/credentials/:credentialId')
  revoke(@Param('id') id: string, @Param('credentialId') credentialId: string) {
    return this.admin.revokeCredential(id, credentialId, OPERATOR);
  }

  @Get(':id/audit')
  async audit(@Param('id') id: string, @Query() q: RawQuery) {
    return { items: await this.admin.auditLog(id, limitOf(single(q ?? {}, 'limit'), 100, 1000)) };
  }
}
