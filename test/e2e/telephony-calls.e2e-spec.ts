import { randomUUID } from 'node:crypto';
import { eventually, TestSystem } from './support/system';

const iso = (v: unknown): string | null => (v === null ? null : new Date(v as string).toISOString());

/**
 * Generic telephony routes end to end: events of one call in any order and repeated end as one call log;
 * missed calls ask for one call-back, a later answered call closes it; unknown callers become one lead.
 */
describe('telephony: call logs, leads and call-back tasks', () => {
  const sys = new TestSystem('telephony-calls');
  let token = '';
  let managerId = '';

  beforeAll(async () => {
    await sys.start(['gateway', 'telephony-connector', 'console']);
    const res = await sys.consoleCall('POST', '/v1/admin/peers', {
      id: 'pbx',
      name: 'Office PBX',
      kind: 'telephony',
      scopes: ['telephony.*'],
    });
    expect(res.status).toBe(201);
    token = res.body.credential.token;
    const [m] = await sys.sql<{ id: string }>(
      `INSERT INTO managers (name, extension) VALUES ('Olga', '101') RETURNING id`,
    );
    managerId = m.id;
  });
  afterAll(() => sys.destroy());

  const send = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    sys.post(path, body, { authorization: `Bearer ${token}`, ...headers });

  /** A full inbound call: started, ringing, answered by extension 101, ended, recording. */
  function answeredCall(callId: string, from: string, at = Date.parse('2026-11-23T10:00:00Z')) {
    const t = (s: number) => new Date(at + s * 1000).toISOString();
    const base = {
      provider: 'generic',
      providerCallId: callId,
      direction: 'inbound',
      from,
      to: '+74950000001',
    };
    return [
      { type: 'started', ...base, occurredAt: t(0), line: '+74950000001' },
      { type: 'ringing', ...base, occurredAt: t(1), extension: '101' },
      { type: 'answered', ...base, occurredAt: t(9), extension: '101' },
      { type: 'ended', ...base, occurredAt: t(69), disposition: 'answered', durationSeconds: 69 },
      {
        type: 'recording.ready',
        ...base,
        occurredAt: t(75),
        recordingUrl: `https://rec.example.com/${callId}.mp3`,
      },
    ];
  }

  function missedCall(callId: string, from: string, at: number) {
    const t = (s: number) => new Date(at + s * 1000).toISOString();
    const base = {
      provider: 'generic',
      providerCallId: callId,
      direction: 'inbound',
      from,
      to: '+74950000001',
    };
    return [
      { type: 'started', ...base, occurredAt: t(0) },
      { type: 'ended', ...base, occurredAt: t(25), disposition: 'no-answer' },
    ];
  }

  async function callLog(callId: string, until: (row: any) => boolean = (r) => r?.status === 'completed') {
    let row: any;
    await eventually(async () => {
      [row] = await sys.sql(`SELECT * FROM call_logs WHERE provider_call_id = $1 OR call_key = $1`, [callId]);
      return row && until(row);
    });
    return row;
  }

  it('a shuffled, repeated event sequence ends as exactly one correct call log with its timeline', async () => {
    const events = answeredCall('gen-1', '8 (912) 000-11-22');
    const shuffled = [events[3], events[1], events[4], events[0], events[3], events[2], events[1]];
    for (const e of shuffled) {
      const res = await send('/v1/telephony/events', e);
      expect(res.status).toBe(202);
    }
    const row = await callLog('gen-1', (r) => r?.event_count >= 5 && r?.recording_url);
    expect(row).toMatchObject({
      direction: 'inbound',
      customer_phone: '+79120001122',
      extension: '101',
      manager_id: managerId,
      status: 'completed',
      disposition: 'answered',
      wait_seconds: 9,
      talk_seconds: 60,
      recording_url: 'https://rec.example.com/gen-1.mp3',
      line: '+74950000001',
    });
    expect(await sys.sql(`SELECT 1 FROM call_logs WHERE call_key = 'gen-1'`)).toHaveLength(1);
    expect(await sys.sql(`SELECT 1 FROM call_events WHERE call_log_id = $1`, [row.id])).toHaveLength(5);
    // An unknown caller became a lead from the phone call, owned by who took it.
    const [lead] = await sys.sql<any>(`SELECT * FROM leads WHERE id = $1`, [row.lead_id]);
    expect(lead).toMatchObject({
      phone: '+79120001122',
      source_channel: 'phone call',
      responsible_manager_id: managerId,
    });
    // Answered: no call-back.
    expect(await sys.sql(`SELECT 1 FROM tasks WHERE phone = '+79120001122'`)).toHaveLength(0);

    const detail = await sys.consoleGet(`/v1/crm/calls/${row.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.timeline.map((e: any) => e.type)).toEqual([
      'telephony.call.started',
      'telephony.call.ringing',
      'telephony.call.answered',
      'telephony.call.ended',
      'telephony.call.recording.ready',
    ]);
    const list = await sys.consoleGet(`/v1/crm/calls?phone=${encodeURIComponent('+7 912 000 11 22')}`);
    expect(list.body.items.map((c: any) => c.id)).toEqual([row.id]);
  });

  it('a missed call gives one call-back task; a later answered call with that number closes it', async () => {
    const at = Date.parse('2026-11-23T11:00:00Z');
    for (const e of missedCall('gen-miss-1', '+79120003344', at)) {
      expect((await send('/v1/telephony/events', e)).status).toBe(202);
    }
    const missed = await callLog('gen-miss-1');
    expect(missed).toMatchObject({ disposition: 'missed', wait_seconds: 25, talk_seconds: 0 });
    const tasks = await eventually(async () => {
      const rows = await sys.sql<any>(`SELECT * FROM tasks WHERE phone = '+79120003344'`);
      return rows.length ? rows : null;
    });
    expect(tasks).toHaveLength(1);
    expect(tasks![0]).toMatchObject({
      kind: 'call_back',
      status: 'open',
      call_log_id: missed.id,
      lead_id: missed.lead_id,
    });
    expect(new Date(tasks![0].due_at).getTime()).toBe(at + 25_000 + 30 * 60_000);

    // A second miss joins the open task instead of making another one.
    for (const e of missedCall('gen-miss-2', '+79120003344', at + 120_000))
      await send('/v1/telephony/events', e);
    const second = await callLog('gen-miss-2', (r) => r?.callback_task_id);
    expect(second.callback_task_id).toBe(tasks![0].id);

    for (const e of answeredCall('gen-back', '+79120003344', at + 600_000))
      await send('/v1/telephony/events', e);
    const back = await callLog('gen-back');
    const [closed] = (await eventually(async () => {
      const rows = await sys.sql<any>(`SELECT * FROM tasks WHERE id = $1 AND status = 'done'`, [
        tasks![0].id,
      ]);
      return rows.length ? rows : null;
    })) as any[];
    expect(closed.result).toContain(back.id);
    expect(await sys.sql(`SELECT 1 FROM tasks WHERE phone = '+79120003344'`)).toHaveLength(1);
    // All three calls are on the same lead.
    expect(new Set([missed.lead_id, second.lead_id, back.lead_id]).size).toBe(1);
  });

  it('a second miss processed before the answer that came between the misses keeps a task of its own', async () => {
    const at = Date.parse('2026-11-23T15:00:00Z');
    const phone = '+79120001212';
    // Happened: miss (15:00), answered (15:10), miss (15:20); processed: miss, miss, answered.
    for (const e of missedCall('gen-order-m1', phone, at)) await send('/v1/telephony/events', e);
    const m1 = await callLog('gen-order-m1', (r) => r?.callback_task_id);
    for (const e of missedCall('gen-order-m2', phone, at + 20 * 60_000))
      await send('/v1/telephony/events', e);
    const m2 = await callLog('gen-order-m2', (r) => r?.callback_task_id);
    expect(m2.callback_task_id).toBe(m1.callback_task_id); // joined: the answer is not known yet

    for (const e of answeredCall('gen-order-a', phone, at + 10 * 60_000))
      await send('/v1/telephony/events', e);
    const answered = await callLog('gen-order-a');
    const later = await callLog('gen-order-m2', (r) => r?.callback_task_id !== m1.callback_task_id);
    const tasks = await sys.sql<any>(`SELECT * FROM tasks WHERE phone = $1 ORDER BY created_at`, [phone]);
    expect(tasks.map((t: any) => [t.id, t.status, t.call_log_id])).toEqual([
      [m1.callback_task_id, 'done', m1.id],
      [later.callback_task_id, 'open', m2.id],
    ]);
    expect(tasks[0].result).toContain(answered.id);
    expect((await sys.consoleGet(`/v1/crm/calls/${m2.id}`)).body.callbackTask).toMatchObject({
      status: 'open',
      kind: 'call_back',
    });
  });

  it('per-manager stats skip unknown wait/talk times instead of counting zero, and count the calls without timing', async () => {
    const at = Date.parse('2026-11-24T10:00:00Z');
    const t = (s: number) => new Date(at + s * 1000).toISOString();
    // Fully observed: wait 9 s, talk 60 s.
    for (const e of answeredCall('gen-stats-full', '+79120002020', at)) await send('/v1/telephony/events', e);
    const base = { provider: 'generic', direction: 'inbound', to: '+74950000001', extension: '101' };
    // Known only from their final message: start unknown (no wait), talk 30 s from durationSeconds.
    await send('/v1/telephony/events', {
      type: 'ended',
      ...base,
      providerCallId: 'gen-stats-final',
      from: '+79120002121',
      occurredAt: t(600),
      disposition: 'answered',
      durationSeconds: 30,
    });
    await send('/v1/telephony/events', {
      type: 'ended',
      ...base,
      providerCallId: 'gen-stats-miss',
      from: '+79120002222',
      occurredAt: t(1200),
      disposition: 'no-answer',
    });
    const final = await callLog('gen-stats-final');
    expect(final).toMatchObject({ talk_seconds: 30, wait_seconds: null, times_estimated: true });
    expect(iso(final.answered_at)).toBe(t(570));
    const miss = await callLog('gen-stats-miss');
    expect(miss).toMatchObject({ wait_seconds: null, talk_seconds: 0, times_estimated: true });

    const stats = await sys.consoleGet(
      `/v1/crm/calls/stats?from=${encodeURIComponent(t(-60))}&to=${encodeURIComponent(t(3600))}`,
    );
    expect(stats.status).toBe(200);
    expect(stats.body.managers).toEqual([
      expect.objectContaining({
        managerId,
        answered: 2,
        missed: 1,
        total: 3,
        averageWaitSeconds: 9,
        averageTalkSeconds: 45,
        withoutTiming: 2,
        timesEstimated: 2,
      }),
    ]);
  });

  it('two concurrent calls from the same unknown number create one lead', async () => {
    const at = Date.parse('2026-11-23T12:00:00Z');
    const a = answeredCall('gen-conc-a', '+79120005566', at);
    const b = missedCall('gen-conc-b', '+79120005566', at + 1000);
    await Promise.all([...a, ...b].map((e) => send('/v1/telephony/events', e)));
    const [ra, rb] = [await callLog('gen-conc-a'), await callLog('gen-conc-b')];
    expect(ra.lead_id).toBeTruthy();
    expect(rb.lead_id).toBe(ra.lead_id);
    expect(await sys.sql(`SELECT 1 FROM leads WHERE phone = '+79120005566'`)).toHaveLength(1);
  });

  it('a known contact gets the call on its card, and its manager is responsible', async () => {
    const [contact] = await sys.sql<{ id: string }>(
      `INSERT INTO contacts (name, phones, responsible_manager_id) VALUES ('Ivan', ARRAY['+79120007788'], $1) RETURNING id`,
      [managerId],
    );
    await sys.sql(
      `INSERT INTO contact_identities (kind, value, contact_id) VALUES ('phone', '+79120007788', $1)`,
      [contact.id],
    );
    const cdr = {
      provider: 'generic',
      providerCallId: 'gen-cdr-1',
      direction: 'outbound',
      from: '102',
      to: '+7 912 000-77-88',
      startedAt: '2026-11-23T13:00:00Z',
      endedAt: '2026-11-23T13:01:00Z',
      disposition: 'answered',
      durationSeconds: 60,
      billSeconds: 50,
    };
    expect((await send('/v1/telephony/cdr', cdr)).status).toBe(202);
    const row = await callLog('gen-cdr-1');
    expect(row).toMatchObject({
      contact_id: contact.id,
      lead_id: null,
      manager_id: managerId,
      talk_seconds: 50,
    });
    const card = await sys.consoleGet(`/v1/crm/contacts/${contact.id}`);
    expect(card.body.calls.map((c: any) => c.id)).toContain(row.id);
  });

  it('bad telephony input gets a problem with a code and creates nothing', async () => {
    const before = await sys.sql<{ n: string }>(`SELECT count(*) AS n FROM call_events`);
    const good = answeredCall(`gen-bad-${randomUUID()}`, '+79120009900')[0];
    const cases: Array<[unknown, number, string]> = [
      [{ ...good, type: 'exploded' }, 400, 'VALIDATION_FAILED'],
      [{ ...good, type: undefined }, 400, 'VALIDATION_FAILED'],
      [{ ...good, occurredAt: '2026-11-23 10:00:00' }, 400, 'VALIDATION_FAILED'],
      [{ ...good, direction: 'sideways' }, 400, 'VALIDATION_FAILED'],
      ['{"type": "started", ', 400, 'MALFORMED_BODY'],
    ];
    for (const [body, status, code] of cases) {
      const res = await send('/v1/telephony/events', body);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(((await res.json()) as { code: string }).code).toBe(code);
    }
    const noAuth = await fetch(`${sys.app('gateway').url}/v1/telephony/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(good),
    });
    expect(noAuth.status).toBe(401);
    // A website-only peer may not post calls.
    const denied = await sys.post('/v1/telephony/events', good);
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { code: string }).code).toBe('AUTH_SCOPE_DENIED');
    // A valid event sent after them, once stored, shows that whatever was accepted before it has been processed.
    const sentinel = answeredCall(`gen-sentinel-${randomUUID()}`, '+79120009901')[0];
    expect((await send('/v1/telephony/events', sentinel)).status).toBe(202);
    await eventually(
      async () =>
        (await sys.sql(`SELECT 1 FROM call_events WHERE provider_call_id = $1`, [sentinel.providerCallId]))
          .length === 1,
    );
    const after = await sys.sql<{ n: string }>(`SELECT count(*) AS n FROM call_events`);
    expect(Number(after[0].n)).toBe(Number(before[0].n) + 1);
  });

  it('the call-back task of a missed call is closed by an answered outbound call to that number', async () => {
    const at = Date.parse('2026-11-24T09:00:00Z');
    for (const e of missedCall('gen-miss-out', '+79120005566', at)) {
      expect((await send('/v1/telephony/events', e)).status).toBe(202);
    }
    const [task] = (await eventually(async () => {
      const rows = await sys.sql<any>(`SELECT * FROM tasks WHERE phone = '+79120005566' AND status = 'open'`);
      return rows.length ? rows : null;
    }))!;
    // The manager calls the customer back from extension 101.
    const t = (sec: number) => new Date(at + 600_000 + sec * 1000).toISOString();
    const base = {
      provider: 'generic',
      providerCallId: 'gen-out-back',
      direction: 'outbound',
      from: '+74950000001',
      to: '+79120005566',
    };
    for (const e of [
      { type: 'started', ...base, occurredAt: t(0), line: '+74950000001', extension: '101' },
      { type: 'answered', ...base, occurredAt: t(8), extension: '101' },
      { type: 'ended', ...base, occurredAt: t(60), disposition: 'answered', durationSeconds: 60 },
    ]) {
      expect((await send('/v1/telephony/events', e)).status).toBe(202);
    }
    const back = await callLog('gen-out-back');
    const [closed] = (await eventually(async () => {
      const rows = await sys.sql<any>(`SELECT * FROM tasks WHERE id = $1 AND status = 'done'`, [task.id]);
      return rows.length ? rows : null;
    }))!;
    expect(closed.result).toContain(back.id);
    expect(await sys.sql(`SELECT 1 FROM tasks WHERE phone = '+79120005566'`)).toHaveLength(1);
  });
});
