/**
 * True when an error says "the database cannot be reached right now" rather than "this statement is wrong":
 * connection refused/reset/timeouts, server shutting down, too many connections. Such failures say nothing
 * about the message, so consumers must wait for the database instead of spending the message's attempts.
 */
const CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300', // too_many_connections
]);
const MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error/i,
];

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    const { code, message, driverError, cause } = e as {
      code?: string;
      message?: string;
      driverError?: unknown;
      cause?: unknown;
    };
    if (code && CODES.has(code)) return true;
    if (message && MESSAGES.some((re) => re.test(message))) return true;
    e = driverError ?? cause;
  }
  return false;
}

/** Resolves once `SELECT 1` succeeds, polling every `everyMs`. */
export async function waitForDatabase(
  ds: { query(sql: string): Promise<unknown> },
  everyMs = 1000,
): Promise<void> {
  for (;;) {
    const up = await ds.query('SELECT 1').then(
      () => true,
      () => false,
    );
    if (up) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
