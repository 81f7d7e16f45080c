import {
  TELEPHONY_EVENT_TYPES as T,
  type EventEnvelope,
  type TelephonyEventType,
} from '@switchboard/contracts';
import { AppConfig } from '@switchboard/config';
import { AssignmentContext, CardAssigner } from '@switchboard/crm';
import { BatchingInbox } from '@switchboard/database';
import { DataSource, EntityManager } from 'typeorm';
import { CallProjector } from './call.projector';

const P = '+79261234567';
const LINE = '+74950000001';

function item(n: number, type: TelephonyEventType, call: string, direction: 'inbound' | 'outbound') {
  const payload = {
    provider: 'generic',
    providerCallId: call,
    direction,
    from: direction === 'inbound' ? P : LINE,
    to: direction === 'inbound' ? LINE : P,
    occurredAt: `2026-11-23T10:00:0${n}Z`,
  };
  return {
    envelope: { id: `00000000-0000-7000-8000-00000000000${n}`, peerId: 'pbx' } as EventEnvelope,
    data: { type, payload: payload as never, callKey: call },
  };
}

/** Answers each statement of a batch from canned rows and records what it was sent. */
function fakeEm(newCalls: string[], createdManager: string | null = 'm-rr') {
  const sent: Record<string, unknown[][]> = {};
  const em = {
    query: async (sql: string, params: unknown[][]) => {
      const name = sql.includes('INSERT INTO call_events')
        ? 'store'
        : sql.includes('INSERT INTO leads')
          ? 'link'
          : sql.includes('UPDATE call_logs c SET provider_call_id')
            ? 'update'
            : sql.includes('UPDATE leads l SET responsible_manager_id = x.manager')
              ? 'assign'
              : 'callbacks';
      sent[name] = params;
      if (name === 'store') {
        const keys = [...new Set(params[2] as string[])];
        return keys.map((k) => ({
          id: `log-${k}`,
          peer_id: 'pbx',
          provider: 'generic',
          call_key: k,
          inserted: newCalls.includes(k),
          added: newCalls.includes(k) ? 0 : 1,
          contact_id: null,
          lead_id: null,
          lead_created: false,
          callback_task_id: null,
          tracking_channel: null,
          others: null,
        }));
      }
      if (name === 'link') {
        // Nobody knows the phone; the statement made one lead for it.
        return params[0].map(() => ({
          contact_id: null,
          contact_manager: null,
          lead_id: null,
          lead_manager: null,
          extension_manager: null,
          created_id: 'lead-1',
          created_manager: createdManager,
        }));
      }
      return [];
    },
  } as unknown as EntityManager;
  return { em, sent };
}

describe('CallProjector.projectBatch', () => {
  const config = {
    telephony: { lineChannels: {}, callbackDueMinutes: 30 },
    crm: { defaultRegion: 'RU', leads: { assignmentRules: [] } },
  } as unknown as AppConfig;
  const asked: AssignmentContext[][] = [];
  const assigner = {
    assignMany: async (_em: EntityManager, contexts: AssignmentContext[]) => {
      asked.push(contexts);
      return contexts.map(() => ({ managerId: 'm-rule', rule: 'moscow' }));
    },
  } as unknown as CardAssigner;
  const projector = new CallProjector(
    { configure: () => undefined } as unknown as BatchingInbox,
    config,
    {} as DataSource,
    assigner,
  );

  it('folds each call once, reports created for a new call’s first event, links calls to the batch’s new lead as event by event', async () => {
    const { em, sent } = fakeEm(['IN']);
    const out = await projector.projectBatch(em, [
      item(0, T.started, 'EARLY', 'outbound'), // before the lead exists: stays unlinked
      item(1, T.started, 'IN', 'inbound'), // makes the lead
      item(2, T.started, 'LATE', 'outbound'), // after it: finds the lead
      item(3, T.ringing, 'IN', 'inbound'),
      item(4, T.ringing, 'LATER', 'outbound'),
    ]);
    expect(out.map((o) => o.outcome)).toEqual(['updated', 'created', 'updated', 'updated', 'updated']);

    const update = sent.update;
    const ids = update[0] as string[];
    expect(ids).toEqual(['log-EARLY', 'log-IN', 'log-LATE', 'log-LATER']);
    const lead = Object.fromEntries(ids.map((id, i) => [id, [update[11][i], update[12][i]]]));
    expect(lead).toEqual({
      'log-EARLY': [null, false],
      'log-IN': ['lead-1', true],
      'log-LATE': ['lead-1', false],
      'log-LATER': ['lead-1', false],
    });
    // Every call of the batch in the one link statement, each once (not once per event).
    expect(sent.link[3]).toEqual([P, P, P, P]);
    expect(update[24]).toEqual([1, 0, 1, 1]);
  });

  it('assigns a lead from an unknown caller nobody took yet by the assignment rules, and records the rule', async () => {
    const { em, sent } = fakeEm(['IN'], null);
    asked.length = 0;
    await projector.projectBatch(em, [
      item(1, T.started, 'IN', 'inbound'),
      item(2, T.ringing, 'IN', 'inbound'),
    ]);
    expect(asked).toEqual([[expect.objectContaining({ source: 'phone call', peerId: 'pbx', phone: P })]]);
    expect(sent.assign).toEqual([['lead-1'], ['m-rule'], ['moscow']]);
    // The call is the rule's manager's too.
    expect(sent.update[9]).toEqual(['m-rule']);
  });

  it('leaves a lead that an extension took to that manager, asking no rule', async () => {
    const { em, sent } = fakeEm(['IN']);
    asked.length = 0;
    await projector.projectBatch(em, [item(1, T.started, 'IN', 'inbound')]);
    expect(asked).toEqual([]);
    expect(sent.assign).toBeUndefined();
  });
});
