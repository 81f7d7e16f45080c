import type { ApiResponseDoc } from '@switchboard/http';

/** The 202 of a route that accepts one event: the broker confirmed it to a durable queue. */
export const ACCEPTED_ONE: Record<number, ApiResponseDoc> = {
  202: {
    description: 'Accepted: the broker confirmed the event to a durable queue; processing follows.',
    schema: {
      type: 'object',
      properties: { eventId: { type: 'string', format: 'uuid', description: 'The envelope id (UUID v7).' } },
      required: ['eventId'],
      additionalProperties: false,
    },
  },
};

/** The 202 of a route that takes one item or a batch: one event per item, in order. */
export const ACCEPTED_MANY: Record<number, ApiResponseDoc> = {
  202: {
    description:
      'Accepted: every event of the request is confirmed by the broker, in the order of the items.',
    schema: {
      type: 'object',
      properties: { eventIds: { type: 'array', items: { type: 'string', format: 'uuid' } } },
      required: ['eventIds'],
      additionalProperties: false,
    },
  },
};
