// node --test test/faults/verdicts.test.mjs  (no servers needed)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatewayShutdownProblems } from './verdicts.mjs';

test('a drained shutdown passes', () => {
  assert.deepEqual(
    gatewayShutdownProblems({
      exit: { code: 0, signal: null },
      inFlightEndedAs: { 202: 12, '503 SHUTTING_DOWN': 3 },
    }),
    [],
  );
});

test('death by the signal is not graceful', () => {
  const p = gatewayShutdownProblems({ exit: { code: null, signal: 'SIGTERM' }, inFlightEndedAs: { 202: 4 } });
  assert.equal(p.length, 1);
  assert.match(p[0], /not code 0/);
});

test('a reset or a timeout of a request in flight fails the scenario', () => {
  const p = gatewayShutdownProblems({
    exit: { code: 0, signal: null },
    inFlightEndedAs: { 202: 4, 'conn ECONNRESET': 1, 'conn timeout': 2 },
  });
  assert.deepEqual(p, [
    '1 in flight at SIGTERM ended as conn ECONNRESET',
    '2 in flight at SIGTERM ended as conn timeout',
  ]);
});

test('other refusals, and no accepted request at all, fail it too', () => {
  assert.deepEqual(
    gatewayShutdownProblems({
      exit: { code: 0, signal: null },
      inFlightEndedAs: { '503 BROKER_UNAVAILABLE': 2 },
    }),
    [
      'no request in flight at SIGTERM was accepted',
      '2 in flight at SIGTERM ended as 503 BROKER_UNAVAILABLE',
    ],
  );
  assert.deepEqual(gatewayShutdownProblems({ exit: { code: 0, signal: null }, inFlightEndedAs: {} }), [
    'no request in flight at SIGTERM: the drain was not exercised',
  ]);
});
