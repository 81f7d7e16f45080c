import { Injectable } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import {
  CONTRACTS,
  EventEnvelope,
  TELEPHONY_EVENT_TYPES,
  validateContract,
  type CallPayload,
  type TelephonyEventType,
} from '@switchboard/contracts';
import { CardAssigner, normalizePhone, preparedQuery } from '@switchboard/crm';
import { BatchingInbox, type BatchItem } from '@switchboard/database';
import { DataSource, EntityManager } from 'typeorm';
import { callKeyOf, foldCall, type CallFact, type CallState } from './call-fold';
import { joinLegs, LegLookup } from './child-legs';

export const CONSUMER = 'telephony-connector';

export type CallOutcome = 'created' | 'updated' | 'duplicate';

/**
 * Batch shape for this consumer. Every statement below is set-based, so a batch costs about the same number
 * of round trips whatever its size: larger batches are cheaper per event. One batch at a time: concurrent
 * batches would mostly hold the same calls' locks and queue on each other anyway; while one runs, the next
 * one fills up. In practice the batch is bounded by the AMQP prefetch (amqp.prefetch unacked messages).
 */
export const CALL_BATCHING = { maxBatch: 500, lingerMs: 5, maxConcurrent: 1 };
const PHONE_CACHE_SIZE = 10_000;

/** What a batch needs of one event, parsed and validated once in `apply`. */
interface CallItem {
  type: TelephonyEventType;
  payload: CallPayload;
  callKey: string;
}

type Item = Pick<BatchItem<{ outcome: CallOutcome }, CallItem>, 'envelope'> & { data: CallItem };

interface LogRow {
  id: string;
  peer_id: string;
  provider: string;
  call_key: string;
  inserted: boolean;
  contact_id: string | null;
  lead_id: string | null;
  lead_created: boolean;
  callback_task_id: string | null;
  tracking_channel: string | null;
  /** How many of the batch's events the log has yet to count (its own new log counts them already). */
  added: number;
  /** The call's events stored before this batch (null for a new call). */
  others: Array<{ e: string; t: TelephonyEventType; p: CallPayload }> | null;
}

interface KnownRow {
  contact_id: string | null;
  contact_manager: string | null;
  lead_id: string | null;
  lead_manager: string | null;
  extension_manager: string | null;
  /** The lead made in this batch for the call's phone, if any. */
  created_id: string | null;
  created_manager: string | null;
}

/** One call touched by a batch: its events in the batch, its log, its fold and how it is linked. */
interface Touched {
  key: string;
  callKey: string;
  /** Indexes of the batch's events of this call, in batch order. */
  items: number[];
  /** Index of the call's first final event (ended, cdr) in the batch, else of its first event. */
  completedAt: number;
  log: LogRow;
  call: CallState;
  customerPhone: string | null;
  trackingChannel: string | null;
  contactId: string | null;
  leadId: string | null;
  leadCreated: boolean;
  managerId: string | null;
}

const TELEPHONY_TYPES = new Set<string>(Object.values(TELEPHONY_EVENT_TYPES));
const FINAL_TYPES = new Set<string>([TELEPHONY_EVENT_TYPES.ended, TELEPHONY_EVENT_TYPES.cdr]);
const callId = (peerId: string, provider: string, callKey: string): string =>
  `${peerId}\u0000${provider}\u0000${callKey}`;

/**
 * telephony.* -> one call log per conversation. Every event is kept in the call's timeline and the log is
 * re-folded from the whole timeline, so arrival order and repeats do not change the result. Then the CRM
 * effects: the outside party's phone links the call to a contact or an open lead (an unknown inbound caller
 * becomes a lead), a missed inbound call asks for one call-back task, an answered call closes it.
 *
 * Set-based per batch (BatchingInbox batch effects): a handful of statements for the whole batch, each call
 * folded once however many of its events the batch holds. The end state is one that applying the batch's
 * events one by one in some arrival order gives: a new lead is made by the batch's first unknown inbound call
 * with the phone, and a call finds it if any of its events comes after that call's first; call-backs go by
 * the order the calls completed in, answers before misses (so a miss after an answer opens a task rather
 * than joining one that answer closes). A batch of one is exactly the old event-by-event projection, and one
 * event alone (a failed batch's retry) goes through the same code.
 */
@Injectable()
export class CallProjector {
  private readonly lineChannels: Map<string, string>;
  private readonly phones = new Map<string, string | null>();
  private readonly legs: LegLookup;

  constructor(
    private readonly inbox: BatchingInbox,
    private readonly config: AppConfig,
    private readonly ds: DataSource,
    private readonly assigner: CardAssigner,
  ) {
    this.legs = new LegLookup(() => ds.manager);
    this.lineChannels = new Map(
      Object.entries(config.telephony.lineChannels).map(([line, channel]) => [
        this.phone(line) ?? line,
        channel,
      ]),
    );
    inbox.configure<{ outcome: CallOutcome }, CallItem>(CONSUMER, {
      ...CALL_BATCHING,
      batchEffects: (em, items) => this.projectBatch(em, items as Item[]),
    });
  }

  async apply(envelope: EventEnvelope): Promise<CallOutcome> {
    if (!TELEPHONY_TYPES.has(envelope.type)) throw new Error(`not a telephony event: ${envelope.type}`);
    const type = envelope.type as TelephonyEventType;
    // Re-validate: the broker accepts anything, and a bad payload must dead-letter, not half-apply.
    const payload = validateContract(CONTRACTS[type].dto, envelope.payload) as CallPayload;
    let callKey = callKeyOf(payload);
    // A recording callback that names only a child leg (Twilio <Dial record>: the agent leg's CallSid, no
    // ParentCallSid) belongs to the call that leg is part of, once the leg's own callbacks named its parent.
    if (type === TELEPHONY_EVENT_TYPES.recordingReady && callKey === payload.providerCallId) {
      callKey = (await this.legs.callOf({ peerId: envelope.peerId, ...payload })) ?? callKey;
    }
    const outside = this.outsidePhone(payload.direction, payload.from, payload.to);
    const data: CallItem = { type, payload, callKey };
    const outcome = await this.inbox.submit<{ outcome: CallOutcome }, CallItem>(CONSUMER, {
      envelope,
      data,
      // The call's key serializes its events; the phone serializes lead creation and call-back tasks across
      // calls (and with the website connector, which locks the same `phone:` key for contacts).
      lockKeys: [
        `call:${envelope.peerId}:${payload.provider}:${callKey}`,
        // A child leg's event may adopt a log its recording made before the leg named its parent.
        ...(payload.parentCallId && payload.providerCallId !== callKey
          ? [`call:${envelope.peerId}:${payload.provider}:${payload.providerCallId}`]
          : []),
        ...(outside ? [`phone:${outside}`] : []),
      ],
      effects: async (em) => (await this.projectBatch(em, [{ envelope, data }]))[0],
    });
    return outcome.duplicate ? 'duplicate' : outcome.result.outcome;
  }

  /**
   * normalizePhone (libphonenumber) is a fair part of an event's CPU, and a call's events repeat the same
   * numbers: remembered, in a bounded map that starts over when full.
   */
  private phone(raw: string | undefined | null): string | null {
    if (!raw) return normalizePhone(raw, this.config.crm.defaultRegion);
    let known = this.phones.get(raw);
    if (known === undefined) {
      if (this.phones.size >= PHONE_CACHE_SIZE) this.phones.clear();
      known = normalizePhone(raw, this.config.crm.defaultRegion);
      this.phones.set(raw, known);
    }
    return known;
  }

  private outsidePhone(
    direction: string | undefined,
    from: string | undefined,
    to: string | undefined,
  ): string | null {
    if (direction === 'inbound') return this.phone(from);
    if (direction === 'outbound') return this.phone(to);
    return null;
  }

  private trackingChannel(line: string): string | null {
    return this.lineChannels.get(this.phone(line) ?? line) ?? this.lineChannels.get(line) ?? null;
  }

  /** The effects of a batch of fresh events (each event once): one outcome per event, in order. */
  async projectBatch(em: EntityManager, items: Item[]): Promise<Array<{ outcome: CallOutcome }>> {
    await joinLegs(em, items);
    const logs = await this.store(em, items);
    const byKey = new Map(logs.map((l) => [callId(l.peer_id, l.provider, l.call_key), l]));

    // The touched calls in the order of their first event in the batch, each folded once.
    const calls = new Map<string, Touched>();
    items.forEach((item, i) => {
      const key = callId(item.envelope.peerId, item.data.payload.provider, item.data.callKey);
      const known = calls.get(key);
      if (known) known.items.push(i);
      else calls.set(key, { key, callKey: item.data.callKey, items: [i] } as Touched);
    });
    const touched = [...calls.values()];
    for (const t of touched) {
      const log = byKey.get(t.key);
      if (!log) throw new Error(`call log missing after upsert: ${t.key}`);
      const facts: CallFact[] = t.items.map((i) => ({
        eventId: items[i].envelope.id,
        type: items[i].data.type,
        payload: items[i].data.payload,
      }));
      const mine = new Set(facts.map((f) => f.eventId));
      for (const o of log.others ?? []) {
        if (!mine.has(o.e)) facts.push({ eventId: o.e, type: o.t, payload: o.p });
      }
      t.log = log;
      t.completedAt = t.items.find((i) => FINAL_TYPES.has(items[i].data.type)) ?? t.items[0];
      t.call = foldCall(t.callKey, facts);
      t.customerPhone = this.outsidePhone(t.call.direction, t.call.fromNumber, t.call.toNumber);
      t.trackingChannel = log.tracking_channel ?? (t.call.line ? this.trackingChannel(t.call.line) : null);
    }

    await this.link(em, items, touched);
    await this.update(em, touched);
    await this.callbacks(em, touched);

    const outcomes: Array<{ outcome: CallOutcome }> = items.map(() => ({ outcome: 'updated' }));
    for (const t of touched) if (t.log.inserted) outcomes[t.items[0]] = { outcome: 'created' };
    return outcomes;
  }

  /**
   * Creates the logs of new calls and appends every event to its call's timeline, in one statement; returns
   * each touched log as it was, with the events it already had (read in the statement's snapshot, so without
   * the ones this batch adds). An existing log is not written here: its one update per batch comes after the
   * fold (a second version of the row in this transaction would also re-run every foreign-key check).
   */
  private store(em: EntityManager, items: Item[]): Promise<LogRow[]> {
    return preparedQuery(
      em,
      `WITH ev AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                              $8::timestamptz[], $9::uuid[], $10::text[], $11::bigint[], $12::timestamptz[],
                              $13::jsonb[])
           WITH ORDINALITY AS x(peer_id, provider, call_key, provider_call_id, direction, from_number, to_number,
                                started_at, event_id, type, sequence, occurred_at, payload, i)),
       calls AS (
         SELECT DISTINCT ON (peer_id, provider, call_key) peer_id, provider, call_key, provider_call_id, direction,
                from_number, to_number, started_at, count(*) OVER (PARTITION BY peer_id, provider, call_key) AS n
           FROM ev ORDER BY peer_id, provider, call_key, i),
       old AS (
         SELECT c.id, c.peer_id, c.provider, c.call_key, false AS inserted, calls.n AS added, c.contact_id, c.lead_id,
                c.lead_created, c.callback_task_id, c.tracking_channel
           FROM calls JOIN call_logs c USING (peer_id, provider, call_key)),
       new AS (
         INSERT INTO call_logs (peer_id, provider, call_key, provider_call_id, direction, from_number, to_number,
                                started_at, event_count)
         SELECT peer_id, provider, call_key, provider_call_id, direction, from_number, to_number, started_at, n
           FROM calls
          WHERE NOT EXISTS (SELECT 1 FROM old
                             WHERE (old.peer_id, old.provider, old.call_key) = (calls.peer_id, calls.provider, calls.call_key))
          ORDER BY peer_id, provider, call_key
         -- The call's lock is held: nobody else can be creating it (a conflict leaves it out, and the batch fails).
         ON CONFLICT (peer_id, provider, call_key) DO NOTHING
         RETURNING id, peer_id, provider, call_key, true AS inserted, 0 AS added, contact_id, lead_id, lead_created,
                   callback_task_id, tracking_channel),
       log AS (SELECT * FROM old UNION ALL SELECT * FROM new),
       ins AS (
         INSERT INTO call_events (call_log_id, event_id, type, provider_call_id, sequence, occurred_at, payload)
         SELECT log.id, ev.event_id, ev.type, ev.provider_call_id, ev.sequence, ev.occurred_at, ev.payload
           FROM ev JOIN log USING (peer_id, provider, call_key) ORDER BY ev.i
         ON CONFLICT (event_id) DO NOTHING)
       SELECT log.*,
              CASE WHEN NOT log.inserted THEN
                (SELECT json_agg(json_build_object('e', e.event_id, 't', e.type, 'p', e.payload))
                   FROM call_events e WHERE e.call_log_id = log.id) END AS others
         FROM log`,
      [
        items.map((it) => it.envelope.peerId),
        items.map((it) => it.data.payload.provider),
        items.map((it) => it.data.callKey),
        items.map((it) => it.data.payload.providerCallId),
        // A recording may name the call alone; the fold fills these in from the call's other events.
        items.map((it) => it.data.payload.direction ?? 'inbound'),
        items.map((it) => it.data.payload.from ?? ''),
        items.map((it) => it.data.payload.to ?? ''),
        items.map((it) => it.data.payload.startedAt ?? it.envelope.occurredAt),
        items.map((it) => it.envelope.id),
        items.map((it) => it.data.type),
        items.map((it) => it.data.payload.sequence ?? null),
        items.map((it) => it.envelope.occurredAt),
        items.map((it) => JSON.stringify(it.data.payload)),
      ],
    );
  }

  /**
   * Who each call is with and who is responsible: the contact by phone, else an open lead with that phone,
   * else (inbound only) a new lead from the call. Responsible: the contact's manager, else the manager whose
   * extension took the call, else the lead's (assigned by the rules when the lead was created). One statement:
   * the lookups, the new leads (one per phone: the batch's first unknown inbound call with it makes it) and
   * the hand-over of a lead made before we knew who took the call.
   */
  private async link(em: EntityManager, items: Item[], touched: Touched[]): Promise<void> {
    const rows: KnownRow[] = await preparedQuery(
      em,
      `WITH x AS (
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::boolean[], $4::text[], $5::text[], $6::text[], $7::text[],
                              $8::text[], $9::text[])
           WITH ORDINALITY AS x(contact_id, lead_id, lead_created, phone, ext, direction, name, tracking_channel,
                                peer_id, i)),
       known AS (
         SELECT x.i, x.phone, x.direction, x.name, x.tracking_channel, x.peer_id, x.lead_created, c.contact_id,
                c.contact_manager, COALESCE(own.lead_id, byphone.lead_id) AS lead_id,
                COALESCE(own.lead_manager, byphone.lead_manager) AS lead_manager, m.id AS extension_manager
           FROM x
           CROSS JOIN LATERAL (
             SELECT COALESCE(x.contact_id,
                             (SELECT contact_id FROM contact_identities WHERE kind = 'phone' AND value = x.phone))
                    AS contact_id) ids
           LEFT JOIN LATERAL (
             SELECT ids.contact_id, responsible_manager_id AS contact_manager FROM contacts WHERE id = ids.contact_id) c
             ON true
           LEFT JOIN LATERAL (
             SELECT id AS lead_id, responsible_manager_id AS lead_manager FROM leads WHERE id = x.lead_id) own ON true
           LEFT JOIN LATERAL (
             SELECT id AS lead_id, responsible_manager_id AS lead_manager FROM leads
              WHERE x.lead_id IS NULL AND ids.contact_id IS NULL AND phone = x.phone AND status IN ('new', 'in_progress')
              ORDER BY created_at LIMIT 1) byphone ON true
           LEFT JOIN managers m ON m.extension = x.ext AND m.active),
       makers AS (
         SELECT DISTINCT ON (phone) i, name, phone, tracking_channel, extension_manager, peer_id FROM known
          WHERE contact_id IS NULL AND lead_id IS NULL AND phone IS NOT NULL AND direction = 'inbound'
          ORDER BY phone, i),
       -- Who took the call owns the lead; a lead nobody took yet is assigned by the rules right after (assignRules).
       created AS (
         INSERT INTO leads (name, phone, source_channel, tracking_channel, responsible_manager_id, peer_id)
         SELECT mk.name, mk.phone, 'phone call', mk.tracking_channel, mk.extension_manager, mk.peer_id
           FROM makers mk ORDER BY mk.i
         RETURNING id, phone, responsible_manager_id),
       -- The lead was made before we knew who took the call: the one who talked to the caller owns it.
       handed AS (
         UPDATE leads l SET responsible_manager_id = k.extension_manager, updated_at = now()
           FROM known k
          WHERE k.lead_created AND l.id = k.lead_id AND k.extension_manager IS NOT NULL
            AND k.lead_manager IS DISTINCT FROM k.extension_manager AND l.status = 'new'
         RETURNING l.id)
       SELECT k.contact_id, k.contact_manager, k.lead_id, k.lead_manager, k.extension_manager,
              cr.id AS created_id, cr.responsible_manager_id AS created_manager
         FROM known k LEFT JOIN created cr ON cr.phone = k.phone
        ORDER BY k.i`,
      [
        touched.map((t) => t.log.contact_id),
        touched.map((t) => t.log.lead_id),
        touched.map((t) => t.log.lead_created),
        touched.map((t) => t.customerPhone),
        touched.map((t) => t.call.extension),
        touched.map((t) => t.call.direction),
        touched.map((t) => t.call.callerName),
        touched.map((t) => t.trackingChannel),
        touched.map((t) => items[t.items[0]].envelope.peerId),
      ],
    );

    await this.assignRules(em, items, touched, rows);

    // The same choice of makers as the statement's: the first unknown inbound call with the phone.
    const unknown = (t: Touched, i: number): boolean =>
      !rows[i].contact_id && !rows[i].lead_id && !!t.customerPhone && !!rows[i].created_id;
    const makers = new Map<string, Touched>();
    touched.forEach((t, i) => {
      if (unknown(t, i) && t.call.direction === 'inbound' && !makers.has(t.customerPhone!))
        makers.set(t.customerPhone!, t);
    });
    touched.forEach((t, i) => {
      const k = rows[i];
      t.contactId = k.contact_id;
      t.leadId = k.lead_id;
      t.leadCreated = t.log.lead_created;
      let leadManager = k.lead_manager;
      if (unknown(t, i)) {
        const maker = makers.get(t.customerPhone!)!;
        // Event by event, a call finds the new lead if any of its events comes after the maker's first one.
        if (maker === t || t.items[t.items.length - 1] > maker.items[0]) {
          t.leadCreated = maker === t;
          t.leadId = k.created_id;
          leadManager = k.created_manager;
        }
      } else if (t.leadCreated && t.leadId && k.extension_manager && leadManager !== k.extension_manager) {
        leadManager = k.extension_manager;
      }
      t.managerId = k.contact_manager ?? k.extension_manager ?? leadManager;
    });
  }

  /**
   * New leads from unknown callers that no extension took yet: assigned by the same ordered rules as site
   * requests (libs/crm CardAssigner; source "phone call", the PBX peer, the caller's phone for region rules), in
   * the order they were made, and the deciding rule recorded on the lead.
   */
  private async assignRules(
    em: EntityManager,
    items: Item[],
    touched: Touched[],
    rows: KnownRow[],
  ): Promise<void> {
    const fresh = new Map<string, { phone: string | null; peerId: string }>();
    rows.forEach((k, i) => {
      if (k.created_id && !k.created_manager && !fresh.has(k.created_id))
        fresh.set(k.created_id, {
          phone: touched[i].customerPhone,
          peerId: items[touched[i].items[0]].envelope.peerId,
        });
    });
    if (fresh.size === 0) return;
    const now = new Date();
    const ids = [...fresh.keys()];
    const decisions = await this.assigner.assignMany(
      em,
      ids.map((id) => ({
        source: 'phone call',
        peerId: fresh.get(id)!.peerId,
        phone: fresh.get(id)!.phone,
        now,
      })),
      this.config.crm.leads.assignmentRules,
    );
    await em.query(
      `UPDATE leads l SET responsible_manager_id = x.manager, assignment_rule = x.rule
         FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS x(id, manager, rule) WHERE l.id = x.id`,
      [ids, decisions.map((d) => d.managerId), decisions.map((d) => d.rule)],
    );
    const byId = new Map(ids.map((id, k) => [id, decisions[k].managerId]));
    for (const k of rows)
      if (k.created_id && byId.has(k.created_id)) k.created_manager = byId.get(k.created_id)!;
  }

  /** Every touched log, as folded and linked, in one statement. */
  private async update(em: EntityManager, touched: Touched[]): Promise<void> {
    await preparedQuery(
      em,
      `UPDATE call_logs c SET provider_call_id = x.provider_call_id, direction = x.direction,
              from_number = x.from_number, to_number = x.to_number, customer_phone = x.customer_phone,
              caller_name = x.caller_name, line = x.line, extension = x.extension, manager_id = x.manager_id,
              contact_id = x.contact_id, lead_id = x.lead_id, lead_created = x.lead_created,
              tracking_channel = x.tracking_channel, status = x.status, started_at = x.started_at,
              answered_at = x.answered_at, ended_at = x.ended_at, wait_seconds = x.wait_seconds,
              talk_seconds = x.talk_seconds, disposition = x.disposition, hangup_cause = x.hangup_cause,
              recording_url = x.recording_url, recording_id = x.recording_id,
              times_estimated = x.times_estimated, event_count = c.event_count + x.added, updated_at = now()
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::uuid[], $11::uuid[], $12::uuid[], $13::boolean[], $14::text[], $15::text[],
                     $16::timestamptz[], $17::timestamptz[], $18::timestamptz[], $19::int[], $20::int[], $21::text[],
                     $22::text[], $23::text[], $24::text[], $25::int[], $26::boolean[])
           AS x(id, provider_call_id, direction, from_number, to_number, customer_phone, caller_name, line, extension,
                manager_id, contact_id, lead_id, lead_created, tracking_channel, status, started_at, answered_at,
                ended_at, wait_seconds, talk_seconds, disposition, hangup_cause, recording_url, recording_id, added,
                times_estimated)
        WHERE c.id = x.id`,
      [
        touched.map((t) => t.log.id),
        touched.map((t) => t.call.providerCallId),
        touched.map((t) => t.call.direction),
        touched.map((t) => t.call.fromNumber),
        touched.map((t) => t.call.toNumber),
        touched.map((t) => t.customerPhone),
        touched.map((t) => t.call.callerName),
        touched.map((t) => t.call.line),
        touched.map((t) => t.call.extension),
        touched.map((t) => t.managerId),
        touched.map((t) => t.contactId),
        touched.map((t) => t.leadId),
        touched.map((t) => t.leadCreated),
        touched.map((t) => t.trackingChannel),
        touched.map((t) => (t.call.completed ? 'completed' : 'in_progress')),
        touched.map((t) => t.call.startedAt),
        touched.map((t) => t.call.answeredAt),
        touched.map((t) => t.call.endedAt),
        touched.map((t) => t.call.waitSeconds),
        touched.map((t) => t.call.talkSeconds),
        touched.map((t) => t.call.disposition),
        touched.map((t) => t.call.hangupCause),
        touched.map((t) => t.call.recordingUrl),
        touched.map((t) => t.call.recordingId),
        touched.map((t) => t.log.added),
        touched.map((t) => t.call.timesEstimated),
      ],
    );
  }

  /**
   * A missed inbound call -> one open call-back task per phone (a second miss joins the open one); an
   * answered call with that phone after it closes it, and a miss after that answer which had already joined
   * the task (processed before the answer) gets an open task again (`reopen`). Both directions of arrival
   * give the same end state: a miss whose answer was already recorded is logged as a task already done.
   * Answers go first, so a miss after an answer in the same batch opens a task rather than joining one that
   * answer closes.
   * Only a call through the same PBX peer closes a call-back task: another PBX (or a forged "answered"
   * call) cannot.
   */
  private async callbacks(em: EntityManager, touched: Touched[]): Promise<void> {
    // In the order the calls completed in the batch (their first final event), as event by event.
    const completed = touched
      .filter((t) => t.call.completed && t.customerPhone)
      .sort((a, b) => a.completedAt - b.completedAt);
    const answered = completed.filter((t) => t.call.disposition === 'answered');
    const missed = completed.filter(
      (t) => t.call.disposition !== 'answered' && t.call.direction === 'inbound' && !t.log.callback_task_id,
    );
    const dueMs = this.config.telephony.callbackDueMinutes * 60_000;
    if (answered.length) {
      // Closes the open task of a miss before the answer, and returns the later misses that had joined that
      // task because they were processed before this answer: they were not answered, so they get a task again.
      const stranded: Array<{ id: string }> = await preparedQuery(
        em,
        `WITH closed AS (
           UPDATE tasks t SET status = CASE WHEN t.call_log_id = y.id THEN 'cancelled' ELSE 'done' END,
                  result = CASE WHEN t.call_log_id = y.id THEN 'the call was answered' ELSE 'answered call ' || y.id END,
                  closed_at = now()
             FROM (SELECT DISTINCT ON (ot.id) ot.id AS task_id, x.id, x.started_at
                     FROM unnest($1::text[], $2::uuid[], $3::timestamptz[], $4::text[])
                          WITH ORDINALITY AS x(phone, id, started_at, peer_id, i)
                     JOIN tasks ot ON ot.kind = 'call_back' AND ot.status = 'open' AND ot.phone = x.phone
                     JOIN call_logs missed ON missed.id = ot.call_log_id AND missed.peer_id = x.peer_id
                          AND (missed.id = x.id OR missed.started_at < x.started_at)
                    ORDER BY ot.id, x.i) y
            WHERE t.id = y.task_id
           RETURNING t.id, y.started_at)
         SELECT c.id FROM call_logs c JOIN closed ON c.callback_task_id = closed.id
          WHERE c.started_at > closed.started_at AND c.disposition IS DISTINCT FROM 'answered'`,
        [
          answered.map((t) => t.customerPhone),
          answered.map((t) => t.log.id),
          answered.map((t) => t.call.startedAt),
          answered.map((t) => t.log.peer_id),
        ],
      );
      if (stranded.length)
        await this.reopen(
          em,
          stranded.map((r) => r.id),
          dueMs,
        );
    }
    if (!missed.length) return;
    await preparedQuery(
      em,
      `WITH x AS (
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::uuid[],
                              $7::uuid[], $8::uuid[], $9::text[])
           WITH ORDINALITY AS x(id, phone, started_at, due_at, title, manager, contact, lead, peer_id, i)),
       later AS (
         SELECT x.*, (SELECT c.id FROM call_logs c
                       WHERE c.customer_phone = x.phone AND c.disposition = 'answered' AND c.started_at > x.started_at
                         AND c.peer_id = x.peer_id
                       ORDER BY c.started_at LIMIT 1) AS answered_id
           FROM x),
       done AS (
         INSERT INTO tasks (kind, title, status, due_at, responsible_manager_id, contact_id, lead_id, phone,
                            call_log_id, result, closed_at)
         SELECT 'call_back', title, 'done', due_at, manager, contact, lead, phone, id, 'answered call ' || answered_id,
                now()
           FROM later WHERE answered_id IS NOT NULL ORDER BY i
         RETURNING id, call_log_id),
       opened AS (
         INSERT INTO tasks (kind, title, due_at, responsible_manager_id, contact_id, lead_id, phone, call_log_id)
         SELECT DISTINCT ON (phone) 'call_back', title, due_at, manager, contact, lead, phone, id
           FROM later WHERE answered_id IS NULL ORDER BY phone, i
         ON CONFLICT (phone) WHERE kind = 'call_back' AND status = 'open' DO NOTHING
         RETURNING id, phone),
       links AS (
         SELECT call_log_id AS id, id AS task_id FROM done
         UNION ALL
         SELECT l.id, COALESCE(o.id, (SELECT t.id FROM tasks t
                                       WHERE t.kind = 'call_back' AND t.status = 'open' AND t.phone = l.phone))
           FROM later l LEFT JOIN opened o ON o.phone = l.phone
          WHERE l.answered_id IS NULL)
       UPDATE call_logs c SET callback_task_id = links.task_id FROM links WHERE c.id = links.id`,
      [
        missed.map((t) => t.log.id),
        missed.map((t) => t.customerPhone),
        missed.map((t) => t.call.startedAt),
        missed.map((t) => new Date((t.call.endedAt ?? t.call.startedAt).getTime() + dueMs)),
        missed.map(
          (t) => `Call back ${t.customerPhone}${t.call.callerName ? ` (${t.call.callerName})` : ''}`,
        ),
        missed.map((t) => t.managerId),
        missed.map((t) => t.contactId),
        missed.map((t) => t.leadId),
        missed.map((t) => t.log.peer_id),
      ],
    );
  }
  /**
   * Misses that joined a call-back task an answer between them and the task's miss has just closed: unless an
   * answered call after them is known too, they open one task per phone again (its call the earliest of them)
   * and link to it. So the end state is the one the calls' own order (occurredAt) gives, whatever order they
   * were processed in.
   */
  private async reopen(em: EntityManager, callIds: string[], dueMs: number): Promise<void> {
    await preparedQuery(
      em,
      `WITH s AS (
         SELECT c.id, c.customer_phone AS phone, c.started_at, c.ended_at, t.title, t.responsible_manager_id,
                t.contact_id, t.lead_id
           FROM call_logs c JOIN tasks t ON t.id = c.callback_task_id
          WHERE c.id = ANY($1::uuid[])
            AND NOT EXISTS (SELECT 1 FROM call_logs a
                             WHERE a.customer_phone = c.customer_phone AND a.disposition = 'answered'
                               AND a.started_at > c.started_at)),
       opened AS (
         INSERT INTO tasks (kind, title, due_at, responsible_manager_id, contact_id, lead_id, phone, call_log_id)
         SELECT DISTINCT ON (phone) 'call_back', title,
                COALESCE(ended_at, started_at) + $2::int * interval '1 millisecond', responsible_manager_id,
                contact_id, lead_id, phone, id
           FROM s ORDER BY phone, started_at, id
         ON CONFLICT (phone) WHERE kind = 'call_back' AND status = 'open' DO NOTHING
         RETURNING id, phone)
       UPDATE call_logs c
          SET callback_task_id = COALESCE(o.id, (SELECT t.id FROM tasks t
                                                  WHERE t.kind = 'call_back' AND t.status = 'open' AND t.phone = s.phone))
         FROM s LEFT JOIN opened o USING (phone)
        WHERE c.id = s.id`,
      [callIds, dueMs],
    );
  }
}
