import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

/** How the fake WhatsApp treats a recipient: report delivered, say nothing, or report 131026 undeliverable. */
export type WhatsAppBehaviour = 'deliver' | 'silent' | 'fail';

export interface WhatsAppSend {
  at: number;
  phoneNumberId: string;
  authorization: string | undefined;
  body: {
    messaging_product: string;
    to: string;
    type: string;
    template: {
      name: string;
      language: { code: string };
      components: Array<{
        type: string;
        sub_type?: string;
        index?: string;
        parameters: Array<{ type: string; text: string }>;
      }>;
    };
  };
  messageId: string;
}

export interface SmsSend {
  at: number;
  form: Record<string, string>;
  smsId: string;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`),
    ),
  );
}

/**
 * A fake WhatsApp Business Cloud API speaking its shapes: `POST /{version}/{phone-number-id}/messages` answers
 * `{messaging_product, contacts, messages: [{id: "wamid..."}]}`, then (per recipient behaviour) posts a
 * `whatsapp_business_account` status webhook to the gateway signed like Meta: X-Hub-Signature-256 =
 * sha256=HMAC-SHA256(app secret, raw body).
 */
export class FakeWhatsApp {
  readonly sends: WhatsAppSend[] = [];
  private server: Server | null = null;
  private seq = 0;
  url = '';
  behaviour = new Map<string, WhatsAppBehaviour>();
  webhookUrl = '';

  constructor(
    private readonly appSecret: string,
    private readonly accessToken: string,
  ) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void (async () => {
        const raw = await readBody(req);
        const m = /^\/v\d+\.\d+\/([^/]+)\/messages$/.exec(req.url ?? '');
        if (req.method !== 'POST' || !m) {
          res.writeHead(404).end();
          return;
        }
        if (req.headers.authorization !== `Bearer ${this.accessToken}`) {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              error: { message: 'Invalid OAuth access token.', type: 'OAuthException', code: 190 },
            }),
          );
          return;
        }
        const body = JSON.parse(raw) as WhatsAppSend['body'];
        const messageId = `wamid.HBgL${String(++this.seq).padStart(8, '0')}`;
        this.sends.push({
          at: Date.now(),
          phoneNumberId: m[1],
          authorization: req.headers.authorization,
          body,
          messageId,
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            messaging_product: 'whatsapp',
            contacts: [{ input: body.to, wa_id: body.to }],
            messages: [{ id: messageId }],
          }),
        );
        const behaviour = this.behaviour.get(body.to) ?? 'deliver';
        if (behaviour === 'silent') return;
        // After the answer, as Meta does: the sender has stored the message id by then (or very nearly).
        setTimeout(() => {
          void this.postStatus(messageId, body.to, 'sent').then(() =>
            this.postStatus(messageId, body.to, behaviour === 'deliver' ? 'delivered' : 'failed'),
          );
        }, 200);
      })();
    });
    this.url = await listen(this.server);
    return this;
  }

  /** Posts one status webhook exactly as Meta would; returns the gateway's HTTP status. */
  async postStatus(
    messageId: string,
    to: string,
    status: 'sent' | 'delivered' | 'read' | 'failed',
    secret = this.appSecret,
  ): Promise<number> {
    const statusObj: Record<string, unknown> = {
      id: messageId,
      status,
      timestamp: String(Math.floor(Date.now() / 1000)),
      recipient_id: to,
    };
    if (status === 'failed')
      statusObj.errors = [
        {
          code: 131026,
          title: 'Message undeliverable',
          message: 'Message undeliverable',
          error_data: { details: 'Message Undeliverable.' },
        },
      ];
    const raw = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [
            {
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
                statuses: [statusObj],
              },
              field: 'messages',
            },
          ],
        },
      ],
    });
    const signature = 'sha256=' + createHmac('sha256', secret).update(raw).digest('hex');
    const res = await fetch(this.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
      body: raw,
    }).catch(() => null);
    return res?.status ?? 0;
  }

  /** The code a send carried: the body parameter {{1}} (and the copy-code button's parameter). */
  static codeOf(send: WhatsAppSend): string {
    return send.body.template.components.find((c) => c.type === 'body')!.parameters[0].text;
  }

  close(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/**
 * A fake SMS.ru: `POST /sms/send` (form api_id, to, msg, json=1) answers its JSON; then posts the delivery status
 * callback (`data[0]=sms_status\n<sms_id>\n103\n<unix time>`, form-encoded) to the configured callback URL.
 */
export class FakeSmsRu {
  readonly sends: SmsSend[] = [];
  private server: Server | null = null;
  private seq = 0;
  url = '';
  callbackUrl = '';

  constructor(private readonly apiId: string) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void (async () => {
        const raw = await readBody(req);
        if (req.method !== 'POST' || req.url !== '/sms/send') {
          res.writeHead(404).end();
          return;
        }
        const form = Object.fromEntries(new URLSearchParams(raw));
        res.writeHead(200, { 'content-type': 'application/json' });
        if (form.api_id !== this.apiId) {
          res.end(JSON.stringify({ status: 'ERROR', status_code: 200, status_text: 'Неправильный api_id' }));
          return;
        }
        const smsId = `202612-${String(++this.seq).padStart(8, '0')}`;
        this.sends.push({ at: Date.now(), form, smsId });
        res.end(
          JSON.stringify({
            status: 'OK',
            status_code: 100,
            sms: { [form.to]: { status: 'OK', status_code: 100, sms_id: smsId } },
            balance: 4122.56,
          }),
        );
        setTimeout(() => {
          void fetch(this.callbackUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
              'data[0]': `sms_status\n${smsId}\n103\n${Math.floor(Date.now() / 1000)}`,
            }).toString(),
          }).catch(() => undefined);
        }, 200);
      })();
    });
    this.url = await listen(this.server);
    return this;
  }

  /** The six digits in an SMS text. */
  static codeOf(send: SmsSend): string {
    return /\d{6}/.exec(send.form.msg)![0];
  }

  close(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
