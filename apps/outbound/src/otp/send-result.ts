import { OutboundError, OutboundTimeoutError } from '@switchboard/access-log';

/** A provider's answer to one send: its message id, or why not and whether trying again could help. */
export type SendResult = { ok: true; id: string } | { ok: false; error: string; permanent: boolean };

/** No answer (timeout, refused connection): worth a retry. Anything else is a bug and is thrown on. */
export function unreachable(err: unknown, provider: string): SendResult {
  if (err instanceof OutboundTimeoutError || err instanceof OutboundError)
    return { ok: false, error: `${provider.toUpperCase()}_${err.code}`, permanent: false };
  throw err;
}

/** HTTP statuses worth a retry: throttling, timeouts and server errors. */
export const retryableStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;
