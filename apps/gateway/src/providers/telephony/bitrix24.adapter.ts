import { TELEPHONY_EVENT_TYPES as T } from '@switchboard/contracts';
import { parsePhpForm, verifyBitrix24 } from '@switchboard/peer-auth';
import type { AdaptedEvent, ProviderAdapter, ProviderRequest } from '../provider-adapter';
import { callEvent, Fields, mediaType, unixToIso, violation } from './parse';

/** Same body-format decision as verifyBitrix24, so the token checked and the event read are one body. */
function body(req: ProviderRequest): Fields {
  const text = req.rawBody.toString('utf8');
  const type = mediaType(req);
  if (type === 'application/json' || (type === '' && text.trimStart().startsWith('{'))) {
    return Fields.fromJson(text);
  }
  return new Fields(parsePhpForm(text));
}

/**
 * Bitrix24 ONEXTERNALCALLSTART: a user clicked a number in the CRM and Bitrix24 asks the PBX to dial it.
 * It becomes telephony.call.started (outbound) keyed by Bitrix24's CALL_ID; the PBX's own events for the
 * dialled call follow from its adapter. Authentication: `auth.application_token` from OnAppInstall.
 * Bitrix24 sends no end-of-call message to an external PBX integration: `telephony.externalCall.finish`
 * (CALL_ID, DURATION = talk seconds, STATUS_CODE 200/304/...) is a REST method the integration calls on
 * Bitrix24 (b24restdocs telephony-external-call-finish), so the call's end, talk and wait come from the PBX's
 * own adapter (its final message), not from here.
 */
export const bitrix24Adapter: ProviderAdapter = {
  provider: 'bitrix24',

  verify: (req, secret) => verifyBitrix24(req, secret),

  toEvents(req): AdaptedEvent[] {
    const f = body(req);
    const event = f.str('event');
    if (event.toUpperCase() !== 'ONEXTERNALCALLSTART') {
      throw violation('event', 'isIn', `unsupported event "${event}"`);
    }
    const data = f.obj('data');
    const callId = data.str('CALL_ID');
    const extension = data.optText('EXTENSION');
    return [
      callEvent(
        T.started,
        {
          provider: 'bitrix24',
          providerCallId: callId,
          direction: 'outbound',
          // The employee's inner number when Bitrix24 knows it; the user alone is not a phone number.
          from: extension ?? '',
          to: data.optText('PHONE_NUMBER_INTERNATIONAL') ?? data.str('PHONE_NUMBER'),
          line: data.optText('LINE_NUMBER'),
          extension,
          occurredAt: unixToIso(f.raw('ts'), 'ts'),
        },
        `bitrix24:${callId}:started`,
      ),
    ];
  },
};
