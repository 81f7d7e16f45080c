import { Logger } from '@nestjs/common';
import { AlertNotifier, pendingKind } from './alert-notifier';
import type { Alert } from './alert-rules';
import type { AlertSink } from './alert-sinks';
import type { NotificationKind } from './alert-store';

const alert = (id: string, over: Partial<Alert> = {}): Alert => ({
  id,
  rule: 'authFailures',
  subject: 'p',
  status: 'firing',
  summary: 's',
  details: {},
  firedAt: '2025-06-01T12:00:00.000Z',
  lastSeenAt: '2025-06-01T12:00:00.000Z',
  resolvedAt: null,
  firedNotifiedAt: null,
  resolvedNotifiedAt: null,
  ...over,
});

/** A sink that answers per a script of outcomes (true = accepted), then accepts. */
class FakeSink implements AlertSink {
  sent: Array<[NotificationKind, string]> = [];
  constructor(
    readonly name: string,
    public script: boolean[] = [],
  ) {}
  async send(kind: NotificationKind, a: Alert) {
    this.sent.push([kind, a.id]);
    if (this.script.length && !this.script.shift()) throw new Error(`${this.name} down`);
  }
}

/** The alerts table as far as notification bookkeeping goes. */
class FakeTable {
  rows = new Map<string, Alert>();
  marks: Array<[string, NotificationKind]> = [];
  add(a: Alert) {
    this.rows.set(a.id, a);
  }
  pending() {
    return [...this.rows.values()].filter((a) => pendingKind(a) !== null);
  }
  mark = async (id: string, kind: NotificationKind) => {
    this.marks.push([id, kind]);
    const a = this.rows.get(id)!;
    this.rows.set(id, { ...a, [kind === 'firing' ? 'firedNotifiedAt' : 'resolvedNotifiedAt']: 'now' });
  };
  resolve(id: string) {
    const a = this.rows.get(id)!;
    this.rows.set(id, { ...a, status: 'resolved', resolvedAt: 'now' });
  }
}

beforeAll(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));

describe('pendingKind', () => {
  it('what an alert still owes', () => {
    expect(pendingKind(alert('a'))).toBe('firing');
    expect(pendingKind(alert('a', { firedNotifiedAt: 'x' }))).toBeNull();
    expect(pendingKind(alert('a', { status: 'resolved' }))).toBe('resolved');
    expect(pendingKind(alert('a', { status: 'resolved', resolvedNotifiedAt: 'x' }))).toBeNull();
  });
});

describe('AlertNotifier', () => {
  it('sends firing once, then resolved once, marking each after acceptance', async () => {
    const sink = new FakeSink('webhook');
    const n = new AlertNotifier([sink]);
    const t = new FakeTable();
    t.add(alert('a'));
    await n.deliver(t.pending(), t.mark);
    await n.deliver(t.pending(), t.mark);
    t.resolve('a');
    await n.deliver(t.pending(), t.mark);
    await n.deliver(t.pending(), t.mark);
    expect(sink.sent).toEqual([
      ['firing', 'a'],
      ['resolved', 'a'],
    ]);
    expect(t.marks).toEqual([
      ['a', 'firing'],
      ['a', 'resolved'],
    ]);
  });

  it('a sink outage leaves the notification unmarked and retries it next round, exactly once after recovery', async () => {
    const sink = new FakeSink('webhook', [false, false]);
    const n = new AlertNotifier([sink]);
    const t = new FakeTable();
    t.add(alert('a'));
    t.add(alert('b'));
    const r1 = await n.deliver(t.pending(), t.mark);
    // The sink failed on the first alert, so the second was not tried in the same round.
    expect(r1).toEqual({
      delivered: [],
      failed: [{ id: 'a', kind: 'firing', sink: 'webhook', error: 'webhook down' }],
    });
    expect(t.marks).toEqual([]);
    await n.deliver(t.pending(), t.mark);
    expect(t.marks).toEqual([]);
    const r3 = await n.deliver(t.pending(), t.mark);
    expect(r3.delivered).toEqual([
      { id: 'a', kind: 'firing' },
      { id: 'b', kind: 'firing' },
    ]);
    await n.deliver(t.pending(), t.mark);
    expect(sink.sent).toEqual([
      ['firing', 'a'],
      ['firing', 'a'],
      ['firing', 'a'],
      ['firing', 'b'],
    ]);
  });

  it('with two sinks, the one that accepted is not sent it again while the other retries', async () => {
    const webhook = new FakeSink('webhook');
    const smtp = new FakeSink('smtp', [false]);
    const n = new AlertNotifier([webhook, smtp]);
    const t = new FakeTable();
    t.add(alert('a'));
    await n.deliver(t.pending(), t.mark);
    expect(t.marks).toEqual([]);
    await n.deliver(t.pending(), t.mark);
    await n.deliver(t.pending(), t.mark);
    expect(webhook.sent).toEqual([['firing', 'a']]);
    expect(smtp.sent).toEqual([
      ['firing', 'a'],
      ['firing', 'a'],
    ]);
    expect(t.marks).toEqual([['a', 'firing']]);
  });

  it('an alert resolved before its firing went out is announced as resolved only', async () => {
    const sink = new FakeSink('webhook', [false]);
    const n = new AlertNotifier([sink]);
    const t = new FakeTable();
    t.add(alert('a'));
    await n.deliver(t.pending(), t.mark);
    t.resolve('a');
    await n.deliver(t.pending(), t.mark);
    expect(sink.sent).toEqual([
      ['firing', 'a'],
      ['resolved', 'a'],
    ]);
    expect(t.marks).toEqual([['a', 'resolved']]);
  });

  it('without sinks, notifications are complete at once (the log is the only channel)', async () => {
    const n = new AlertNotifier([]);
    const t = new FakeTable();
    t.add(alert('a'));
    await n.deliver(t.pending(), t.mark);
    expect(t.marks).toEqual([['a', 'firing']]);
  });

  it('a failed bookkeeping write does not make an accepting sink receive it twice', async () => {
    const sink = new FakeSink('webhook');
    const n = new AlertNotifier([sink]);
    const t = new FakeTable();
    t.add(alert('a'));
    await expect(
      n.deliver(t.pending(), async () => {
        throw new Error('db down');
      }),
    ).rejects.toThrow('db down');
    await n.deliver(t.pending(), t.mark);
    expect(sink.sent).toEqual([['firing', 'a']]);
    expect(t.marks).toEqual([['a', 'firing']]);
  });
});
