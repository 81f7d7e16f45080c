import { Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { NotFoundError } from '@switchboard/contracts';
import { DELIVERY_STATUSES, OutboundDeliveries } from '@switchboard/peer-auth';
import { CLOCK, Clock } from '../leads/clock';
import { OperatorGuard } from '../operators/operator.guard';
import { limitOf, oneOf, RawQuery, single, uuid } from '../query-params';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Delivery ids are uuids: anything else names no delivery (404), never a bad cast in SQL (500). */
function deliveryId(id: string): string {
  if (!UUID.test(id)) throw new NotFoundError(`No outbound delivery "${id}".`);
  return id;
}

/** Outbound webhook deliveries (apps/outbound): what went to which peer, what failed, and replay of dead letters. */
@Controller('v1/admin/outbound/deliveries')
@UseGuards(OperatorGuard)
export class OutboundController {
  constructor(
    private readonly deliveries: OutboundDeliveries,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** `?status=pending|delivered|failed|superseded&peerId=&limit=&before=<id of the last item>`, newest first. */
  @Get()
  list(@Query() raw: RawQuery) {
    const q = raw ?? {};
    return this.deliveries.list({
      status: oneOf(q, 'status', DELIVERY_STATUSES),
      peerId: single(q, 'peerId'),
      before: uuid(q, 'before'),
      limit: limitOf(single(q, 'limit'), 50, 500),
    });
  }

  /** One delivery with the body it sends. */
  @Get(':id')
  show(@Param('id') id: string) {
    return this.deliveries.get(deliveryId(id));
  }

  /** A failed delivery (dead letter) goes out again with the same webhook-id; 409 CONFLICT for any other. */
  @Post(':id/replay')
  @HttpCode(200)
  replay(@Param('id') id: string) {
    return this.deliveries.replay(deliveryId(id), this.clock.now());
  }
}
