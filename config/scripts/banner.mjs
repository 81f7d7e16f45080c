// The "Switchboard is up" text `npm start` prints. Secrets (admin token, demo tokens, signing secret) appear
// only when stdout is a terminal: piped or redirected output (CI logs, `npm start > log`, journald) gets
// placeholders that read the values from the stored file instead.

const plain = (s) => s;

/**
 * @param {object} o
 * @param {{name: string, url: string, metricsUrl: string}[]} o.apps
 * @param {{adminToken: string, wooSigningSecret: string, tokens: Record<string, string>}} o.demo
 * @param {string} o.demoPeer     id of the demo website peer
 * @param {string} o.demoFile     where the secrets are stored (shown relative to the working directory)
 * @param {string[]} o.servers    lines describing PostgreSQL and RabbitMQ (already redacted)
 * @param {boolean} o.showSecrets print secrets (stdout is a terminal)
 */
export function bannerLines({
  apps,
  demo,
  demoPeer,
  demoFile,
  servers,
  showSecrets,
  bold = plain,
  dim = plain,
}) {
  const width = Math.max(...apps.map((a) => a.name.length), 'PostgreSQL'.length);
  const gw = apps.find((a) => a.name === 'gateway').url;
  const con = apps.find((a) => a.name === 'console').url;
  // Not a terminal: each secret becomes a shell expression reading it from the file, so pasted curls still work.
  const fromFile = (expr) => `$(node -p "require('./${demoFile}')${expr}")`;
  const secret = (value, expr) => (showSecrets ? value : fromFile(expr));
  const adminToken = secret(demo.adminToken, '.adminToken');
  const peerKey = secret(demo.tokens[demoPeer], `.tokens['${demoPeer}']`);
  const pbxKey = secret(demo.tokens['demo-pbx'], `.tokens['demo-pbx']`);
  const now = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  const order = {
    externalId: 'demo-1001',
    status: 'new',
    createdAt: now,
    customer: { name: 'Anna Petrova', phone: '+7 912 345-67-89', email: 'anna@example.com' },
    items: [{ sku: 'GRINDER-1', name: 'Coffee grinder', quantity: 1, price: 4990 }],
    total: 4990,
    currency: 'RUB',
  };
  const call = {
    provider: 'generic',
    providerCallId: `demo-call-${Date.now()}`,
    direction: 'inbound',
    from: '+7 912 765-43-21',
    to: '+7 495 000-00-01',
    startedAt: now,
    disposition: 'missed',
    durationSeconds: 20,
  };
  // Double quotes where a placeholder is expanded by the shell.
  const auth = (token) =>
    showSecrets ? `-H 'Authorization: Bearer ${token}'` : `-H "Authorization: Bearer ${token}"`;
  const credentials = showSecrets
    ? [
        `  Admin token (console):  ${demo.adminToken}`,
        `  Demo peer ${demoPeer} token:  ${demo.tokens[demoPeer]}`,
        `  Demo peer demo-woo: POST ${gw}/v1/providers/woocommerce/demo-woo, signing secret ${demo.wooSigningSecret}`,
      ]
    : [
        `  Credentials are not printed (stdout is not a terminal). The admin token, the demo peers' tokens and`,
        `  the demo-woo signing secret are in ${demoFile}, e.g.: node -p "require('./${demoFile}').adminToken"`,
      ];
  return [
    '',
    bold('Switchboard is up.'),
    ...apps.map(
      (a) =>
        `  ${a.name.padEnd(width)}  ${a.url}   ${dim(`health ${a.url}/health  metrics ${a.metricsUrl}/metrics`)}`,
    ),
    ...servers.map((s) => `  ${s}`),
    '',
    ...credentials,
    `  Peers: npm run cli -- peers list   |   rotate: npm run cli -- peers rotate ${demoPeer}`,
    `  ${dim(`Stored in ${demoFile} (mode 600); delete it to issue new ones.`)}`,
    '',
    'Send an order (202 {"eventId": ...} once the broker holds it):',
    `  curl -sS -X POST ${gw}/v1/website/orders ${auth(peerKey)} -H 'Content-Type: application/json' -d '${JSON.stringify(order)}'`,
    'Read it back from the CRM:',
    `  curl -sS '${con}/v1/crm/deals?externalId=${order.externalId}' ${auth(adminToken)}`,
    'Post a missed call from the demo PBX (a lead and a call-back task follow), then list calls:',
    `  curl -sS -X POST ${gw}/v1/telephony/cdr ${auth(pbxKey)} -H 'Content-Type: application/json' -d '${JSON.stringify(call)}'`,
    `  curl -sS '${con}/v1/crm/calls' ${auth(adminToken)}`,
    '',
    dim('Ctrl-C stops the apps and the servers this run started.'),
    '',
  ];
}

/** Prints the banner; secrets only when `out` (stdout by default) is a terminal. */
export function printBanner(options, out = process.stdout) {
  out.write(`${bannerLines({ ...options, showSecrets: Boolean(out.isTTY) }).join('\n')}\n`);
}
