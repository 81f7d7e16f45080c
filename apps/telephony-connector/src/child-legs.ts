import { TELEPHONY_EVENT_TYPES, type CallPayload, type TelephonyEventType } from '@switchboard/contracts';
import { preparedQuery } from '@switchboard/crm';
import type { EntityManager } from 'typeorm';

/**
 * Child legs and their calls (issue 13 item 7): Twilio's <Dial record> recording callback names only the agent
 * leg's CallSid, while the leg's own status callbacks name its parent (ParentCallSid), which is the call's key.
 * These helpers find the call a leg belongs to and bring a recording of the leg into that call's log, whatever
 * order the callbacks come in.
 */

/** What these helpers need of a batch item; `callKey` may be rewritten to the leg's call. */
export interface LegItem {
  envelope: { peerId: string };
  data: { type: TelephonyEventType; payload: CallPayload; callKey: string };
}

const legId = (peerId: string, provider: string, providerCallId: string): string =>
  `${peerId}\u0000${provider}\u0000${providerCallId}`;

/** A child leg to look up: its peer and provider, and its own call id. */
export interface Leg {
  peerId: string;
  provider: string;
  providerCallId: string;
}

/**
 * The call key of the call each child leg belongs to (an event of the leg named its parent), if known; null
 * otherwise. One statement for all of them (a batch's recordings, or the ones arriving together).
 */
export async function callsOfLegs(em: EntityManager, legs: readonly Leg[]): Promise<Array<string | null>> {
  if (legs.length === 0) return [];
  const rows: Array<{ i: string; call_key: string }> = await preparedQuery(
    em,
    `SELECT x.i, l.call_key
       FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS x(peer_id, provider, leg, i)
       CROSS JOIN LATERAL (
         SELECT l.call_key FROM call_events e JOIN call_logs l ON l.id = e.call_log_id
          WHERE e.provider_call_id = x.leg AND e.payload ? 'parentCallId' AND l.peer_id = x.peer_id
            AND l.provider = x.provider AND l.call_key <> x.leg
          LIMIT 1) l`,
    [legs.map((l) => l.peerId), legs.map((l) => l.provider), legs.map((l) => l.providerCallId)],
  );
  const keys: Array<string | null> = legs.map(() => null);
  for (const r of rows) keys[Number(r.i) - 1] = r.call_key;
  return keys;
}

/**
 * callsOfLegs for legs asked one at a time by concurrent callers (each recording as it is consumed): the
 * lookups asked within one turn of the event loop go out as one statement, not one round trip each.
 */
export class LegLookup {
  private pending: Array<{ leg: Leg; resolve: (k: string | null) => void; reject: (e: unknown) => void }> =
    [];

  constructor(private readonly em: () => EntityManager) {}

  callOf(leg: Leg): Promise<string | null> {
    return new Promise((resolve, reject) => {
      if (this.pending.push({ leg, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const asked = this.pending;
    this.pending = [];
    callsOfLegs(
      this.em(),
      asked.map((a) => a.leg),
    ).then(
      (keys) => asked.forEach((a, i) => a.resolve(keys[i])),
      (err: unknown) => asked.forEach((a) => a.reject(err)),
    );
  }
}

/**
 * Child-leg recordings and their calls meet whatever the order: a recording that came before its leg named
 * its parent made a log of its own (keyed by the leg); the leg's first event naming the parent moves that
 * log's events into the call's log (or, when the call has no log yet, gives the log the call's key). And a
 * recording that found no call before its lock, while the leg joined its call meanwhile, is retried, so it
 * then joins the call.
 */
export async function joinLegs(em: EntityManager, items: LegItem[]): Promise<void> {
  const legs = items.filter(
    (it) => it.data.payload.parentCallId && it.data.payload.providerCallId !== it.data.callKey,
  );
  if (legs.length) {
    const orphans: Array<{ id: string; parent_id: string | null; call_key: string }> = await em.query(
      `SELECT DISTINCT ON (o.id) o.id, p.id AS parent_id, x.call_key
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS x(peer_id, provider, leg, call_key)
         JOIN call_logs o ON (o.peer_id, o.provider, o.call_key) = (x.peer_id, x.provider, x.leg)
         LEFT JOIN call_logs p ON (p.peer_id, p.provider, p.call_key) = (x.peer_id, x.provider, x.call_key)`,
      [
        legs.map((it) => it.envelope.peerId),
        legs.map((it) => it.data.payload.provider),
        legs.map((it) => it.data.payload.providerCallId),
        legs.map((it) => it.data.callKey),
      ],
    );
    for (const o of orphans) {
      if (o.parent_id === null) {
        await em.query(`UPDATE call_logs SET call_key = $2, updated_at = now() WHERE id = $1`, [
          o.id,
          o.call_key,
        ]);
        continue;
      }
      await em.query(`UPDATE call_events SET call_log_id = $2 WHERE call_log_id = $1`, [o.id, o.parent_id]);
      await em.query(
        `UPDATE call_logs p SET event_count = p.event_count + o.event_count, updated_at = now()
           FROM call_logs o WHERE p.id = $2 AND o.id = $1`,
        [o.id, o.parent_id],
      );
      await em.query(`DELETE FROM call_logs WHERE id = $1`, [o.id]);
    }
  }
  // In this batch: the leg's event names the parent (its locks cover both keys).
  const parentOf = new Map(
    legs.map((it) => [
      legId(it.envelope.peerId, it.data.payload.provider, it.data.payload.providerCallId),
      it.data.callKey,
    ]),
  );
  const unjoined: LegItem[] = [];
  for (const it of items) {
    const { type, payload, callKey } = it.data;
    if (type !== TELEPHONY_EVENT_TYPES.recordingReady || callKey !== payload.providerCallId) continue;
    const parent = parentOf.get(legId(it.envelope.peerId, payload.provider, payload.providerCallId));
    if (parent !== undefined) it.data.callKey = parent;
    else unjoined.push(it);
  }
  const raced = (
    await callsOfLegs(
      em,
      unjoined.map((it) => ({ peerId: it.envelope.peerId, ...it.data.payload })),
    )
  ).findIndex((k) => k !== null);
  if (raced >= 0) {
    const leg = unjoined[raced].data.payload.providerCallId;
    throw new Error(`recording of leg ${leg} raced its call; retried to join it`);
  }
}
