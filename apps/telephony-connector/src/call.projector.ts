import { Injectable } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import {
  CONTRACTS,
  EventEnvelope,
  TELEPHONY_EVENT_TYPES,
  validateContract,
  type CallEventV1,
  type CallRecordV1,
  type TelephonyEventType,
} from '@switchboard/contracts';
import { normalizePhone, ROUND_ROBIN_MANAGER_SQL } from '@switchboard/crm';
import { BatchingInbox } from '@switchboard/database';
import { EntityManager } from 'typeorm';
import { callKeyOf, foldCall, type CallFact, type CallState } from './call-fold';

export const CONSUMER = 'telephony-connector';

export type CallOutcome = 'created' | 'updated' | 'duplicate';

interface LogRow {
  id: string;
  inserted: boolean;
  contact_id: string | null;
  lead_id: string | null;
  lead_created: boolean;
  manager_id: string | null;
  callback_task_id: string | null;
  tracking_channel: string | null;
}

const TELEPHONY_TYPES = new Set<string>(Object.values(TELEPHONY_EVENT_TYPES));

/**
 * telephony.* -> one call log per conversation. Every event is kept in the call's timeline and the log is
 * re-folded from the whole timeline, so arrival order and repeats do not change the result. Then the CRM
 * effects: the outside party's phone links the call to a contact or an open lead (an unknown inbound caller
 * becomes a lead), a missed inbound call asks for one call-back task, an answered call closes it.
 */
@Injectable()
export class CallProjector {
  private readonly lineChannels: Map<string, string>;

  constructor(
    private readonly inbox: BatchingInbox,
    private readonly config: AppConfig,
  ) {
    this.lineChannels = new Map(
      Object.entries(config.telephony.lineChannels).map(([line, channel]) => [
        this.phone(line) ?? line,
        channel,
      ]),
    );
  }

  async apply(envelope: EventEnvelope): Promise<CallOutcome> {
    if (!TELEPHONY_TYPES.has(envelope.type)) throw new Error(`not a telephony event: ${envelope.type}`);
    const type = envelope.type as TelephonyEventType;
    // Re-validate: the broker accepts anything, and a bad payload must dead-letter, not half-apply.
    const payload = validateContract(CONTRACTS[type].dto, envelope.payload) as CallEventV1 | CallRecordV1;
    const callKey = callKeyOf(payload);
    const outside = this.outsidePhone(payload.direction, payload.from, payload.to);
    const outcome = await this.inbox.submit(CONSUMER, {
      envelope,
      // The call's key serializes its events; the phone serializes lead creation and call-back tasks across
      // calls (and with the website connector, which locks the same `phone:` key for contacts).
      lockKeys: [
        `call:${envelope.peerId}:${payload.provider}:${callKey}`,
        ...(outside ? [`phone:${outside}`] : []),
      ],
      effects: async (em) => ({ outcome: await this.project(em, envelope, type, payload, callKey) }),
    });
    return outcome.duplicate ? 'duplicate' : outcome.result.outcome;
  }

  private phone(raw: string | undefined | null): string | null {
    return normalizePhone(raw, this.config.crm.defaultRegion);
  }

  private outsidePhone(direction: string, from: string, to: string): string | null {
    if (direction === 'inbound') return this.phone(from);
    if (direction === 'outbound') return this.phone(to);
    return null;
  }

  private async project(
    em: EntityManager,
    envelope: EventEnvelope,
    type: TelephonyEventType,
    payload: CallEventV1 | CallRecordV1,
    callKey: string,
  ): Promise<CallOutcome> {
    const [log]: LogRow[] = await em.query(
      `WITH log AS (
         INSERT INTO call_logs (peer_id, provider, call_key, provider_call_id, direction, from_number, to_number,
                                started_at, event_count)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)
         ON CONFLICT (peer_id, provider, call_key) DO UPDATE SET event_count = call_logs.event_count + 1
         RETURNING id, (xmax = 0) AS inserted, contact_id, lead_id, lead_created, manager_id, callback_task_id,
                   tracking_channel),
       ev AS (
         INSERT INTO call_events (call_log_id, event_id, type, provider_call_id, sequence, occurred_at, payload)
         SELECT log.id, $9, $10, $4, $11, $12, $13 FROM log
         ON CONFLICT (event_id) DO NOTHING)
       SELECT * FROM log`,
      [
        envelope.peerId,
        payload.provider,
        callKey,
        payload.providerCallId,
        payload.direction,
        payload.from,
        payload.to,
        payload.startedAt ?? envelope.occurredAt,
        envelope.id,
        type,
        payload.sequence ?? null,
        envelope.occurredAt,
        JSON.stringify(payload),
      ],
    );
    const others: Array<{ event_id: string; type: TelephonyEventType; payload: CallEventV1 | CallRecordV1 }> =
      log.inserted
        ? []
        : await em.query(
            `SELECT event_id, type, payload FROM call_events WHERE call_log_id = $1 AND event_id <> $2`,
            [log.id, envelope.id],
          );
    const facts: CallFact[] = [
      { eventId: envelope.id, type, payload },
      ...others.map((o) => ({ eventId: o.event_id, type: o.type, payload: o.payload })),
    ];
    const call = foldCall(callKey, facts);
    const customerPhone = this.outsidePhone(call.direction, call.fromNumber, call.toNumber);
    const trackingChannel = log.tracking_channel ?? (call.line ? this.trackingChannel(call.line) : null);

    const link = await this.link(em, envelope, log, call, customerPhone, trackingChannel);
    await em.query(
      `UPDATE call_logs SET provider_call_id = $2, direction = $3, from_number = $4, to_number = $5,
              customer_phone = $6, caller_name = $7, line = $8, extension = $9, manager_id = $10, contact_id = $11,
              lead_id = $12, lead_created = $13, tracking_channel = $14, status = $15, started_at = $16,
              answered_at = $17, ended_at = $18, wait_seconds = $19, talk_seconds = $20, disposition = $21,
              hangup_cause = $22, recording_url = $23, recording_id = $24, updated_at = now()
        WHERE id = $1`,
      [
        log.id,
        call.providerCallId,
        call.direction,
        call.fromNumber,
        call.toNumber,
        customerPhone,
        call.callerName,
        call.line,
        call.extension,
        link.managerId,
        link.contactId,
        link.leadId,
        link.leadCreated,
        trackingChannel,
        call.completed ? 'completed' : 'in_progress',
        call.startedAt,
        call.answeredAt,
        call.endedAt,
        call.waitSeconds,
        call.talkSeconds,
        call.disposition,
        call.hangupCause,
        call.recordingUrl,
        call.recordingId,
      ],
    );
    if (call.completed && customerPhone) {
      await this.callbacks(em, log, call, customerPhone, link);
    }
    return log.inserted ? 'created' : 'updated';
  }

  private trackingChannel(line: string): string | null {
    return this.lineChannels.get(this.phone(line) ?? line) ?? this.lineChannels.get(line) ?? null;
  }

  /**
   * Who the call is with and who is responsible: the contact by phone, else an open lead with that phone,
   * else (inbound only) a new lead from the call. Responsible: the contact's manager, else the manager whose
   * extension took the call, else the lead's (assigned round robin when the lead was created).
   */
  private async link(
    em: EntityManager,
    envelope: EventEnvelope,
    log: LogRow,
    call: CallState,
    phone: string | null,
    trackingChannel: string | null,
  ): Promise<{
    contactId: string | null;
    leadId: string | null;
    leadCreated: boolean;
    managerId: string | null;
  }> {
    let { contact_id: contactId, lead_id: leadId, lead_created: leadCreated } = log;
    const [known]: Array<{
      contact_id: string | null;
      contact_manager: string | null;
      lead_id: string | null;
      lead_manager: string | null;
      extension_manager: string | null;
    }> = await em.query(
      `SELECT c.contact_id, c.contact_manager, l.lead_id, l.lead_manager,
              (SELECT id FROM managers WHERE extension = $4 AND active) AS extension_manager
         FROM (SELECT COALESCE($1::uuid, (SELECT contact_id FROM contact_identities WHERE kind = 'phone' AND value = $3)) AS contact_id) ids
         LEFT JOIN LATERAL (SELECT ids.contact_id, responsible_manager_id AS contact_manager FROM contacts WHERE id = ids.contact_id) c ON true
         LEFT JOIN LATERAL (
           SELECT id AS lead_id, responsible_manager_id AS lead_manager FROM leads
            WHERE ($2::uuid IS NOT NULL AND id = $2::uuid)
               OR ($2::uuid IS NULL AND ids.contact_id IS NULL AND phone = $3 AND status IN ('new', 'in_progress'))
            ORDER BY created_at LIMIT 1) l ON true`,
      [contactId, leadId, phone, call.extension],
    );
    contactId = known.contact_id;
    leadId = known.lead_id;
    let leadManager = known.lead_manager;
    if (!contactId && !leadId && phone && call.direction === 'inbound') {
      const [lead]: Array<{ id: string; responsible_manager_id: string | null }> = await em.query(
        `INSERT INTO leads (name, phone, source_channel, tracking_channel, responsible_manager_id, peer_id)
         VALUES ($1, $2, 'phone call', $3, COALESCE($4::uuid, ${ROUND_ROBIN_MANAGER_SQL}), $5)
         RETURNING id, responsible_manager_id`,
        [call.callerName, phone, trackingChannel, known.extension_manager, envelope.peerId],
      );
      leadId = lead.id;
      leadManager = lead.responsible_manager_id;
      leadCreated = true;
    } else if (leadCreated && leadId && known.extension_manager && leadManager !== known.extension_manager) {
      // The lead was made before we knew who took the call: the one who talked to the caller owns it.
      await em.query(
        `UPDATE leads SET responsible_manager_id = $2, updated_at = now() WHERE id = $1 AND status = 'new'`,
        [leadId, known.extension_manager],
      );
      leadManager = known.extension_manager;
    }
    return {
      contactId,
      leadId,
      leadCreated,
      managerId: known.contact_manager ?? known.extension_manager ?? leadManager,
    };
  }

  /**
   * A missed inbound call -> one open call-back task per phone (a second miss joins the open one); an
   * answered call with that phone after it closes it. Both directions of arrival give the same end state: a
   * miss whose answer was already recorded is logged as a task already done.
   */
  private async callbacks(
    em: EntityManager,
    log: LogRow,
    call: CallState,
    phone: string,
    link: { contactId: string | null; leadId: string | null; managerId: string | null },
  ): Promise<void> {
    if (call.disposition === 'answered') {
      await em.query(
        `UPDATE tasks t SET status = CASE WHEN t.call_log_id = $2 THEN 'cancelled' ELSE 'done' END,
                result = CASE WHEN t.call_log_id = $2 THEN 'the call was answered' ELSE 'answered call ' || $2 END,
                closed_at = now()
           FROM call_logs missed
          WHERE t.kind = 'call_back' AND t.status = 'open' AND t.phone = $1 AND missed.id = t.call_log_id
            AND (missed.id = $2 OR missed.started_at < $3)`,
        [phone, log.id, call.startedAt],
      );
      return;
    }
    if (call.direction !== 'inbound' || log.callback_task_id) return;
    const [answeredLater]: Array<{ id: string }> = await em.query(
      `SELECT id FROM call_logs WHERE customer_phone = $1 AND disposition = 'answered' AND started_at > $2
        ORDER BY started_at LIMIT 1`,
      [phone, call.startedAt],
    );
    const due = new Date(
      (call.endedAt ?? call.startedAt).getTime() + this.config.telephony.callbackDueMinutes * 60_000,
    );
    const title = `Call back ${phone}${call.callerName ? ` (${call.callerName})` : ''}`;
    let taskId: string;
    if (answeredLater) {
      const [done]: Array<{ id: string }> = await em.query(
        `INSERT INTO tasks (kind, title, status, due_at, responsible_manager_id, contact_id, lead_id, phone,
                            call_log_id, result, closed_at)
         VALUES ('call_back', $1, 'done', $2, $3, $4, $5, $6, $7, 'answered call ' || $8, now()) RETURNING id`,
        [title, due, link.managerId, link.contactId, link.leadId, phone, log.id, answeredLater.id],
      );
      taskId = done.id;
    } else {
      const rows: Array<{ id: string }> = await em.query(
        `WITH ins AS (
           INSERT INTO tasks (kind, title, due_at, responsible_manager_id, contact_id, lead_id, phone, call_log_id)
           VALUES ('call_back', $1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (phone) WHERE kind = 'call_back' AND status = 'open' DO NOTHING RETURNING id)
         SELECT id FROM ins
         UNION ALL SELECT id FROM tasks WHERE kind = 'call_back' AND status = 'open' AND phone = $6
         LIMIT 1`,
        [title, due, link.managerId, link.contactId, link.leadId, phone, log.id],
      );
      taskId = rows[0].id;
    }
    await em.query(`UPDATE call_logs SET callback_task_id = $2 WHERE id = $1`, [log.id, taskId]);
  }
}
