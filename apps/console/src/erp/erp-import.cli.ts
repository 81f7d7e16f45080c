import { open } from 'node:fs/promises';
import { basename } from 'node:path';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** A one-line progress bar on stderr (stdout stays the command's JSON). */
function bar(label: string, done: number, total: number): void {
  if (!process.stderr.isTTY) return;
  const width = 30;
  const filled = total > 0 ? Math.round((done / total) * width) : width;
  process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}   `);
}

/**
 * `erp import FILE --peer ID [--token T] [--gateway URL] [--type catalog|sale]`: a one-off upload of a
 * CommerceML file (import.xml, offers.xml or a zip of them) through the gateway's 1C exchange, exactly as 1C
 * does it (checkauth, init, file in file_limit chunks, import until success), so it is authenticated, access
 * logged and parsed the same way. The token is the peer's issued credential (or SWITCHBOARD_PEER_TOKEN).
 */
export async function erpCommand(args: string[]): Promise<unknown> {
  const [sub, file] = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  const peer = option(args, '--peer');
  const token = option(args, '--token') ?? process.env.SWITCHBOARD_PEER_TOKEN;
  const gateway = (
    option(args, '--gateway') ??
    process.env.SWITCHBOARD_GATEWAY_URL ??
    'http://127.0.0.1:8080'
  ).replace(/\/$/, '');
  const type = option(args, '--type') ?? 'catalog';
  if (sub !== 'import' || !file || !peer || !token) {
    throw new Error(
      'usage: erp import FILE --peer ID [--token T | SWITCHBOARD_PEER_TOKEN] [--gateway URL] [--type catalog|sale]',
    );
  }
  const url = (q: string) =>
    `${gateway}/v1/providers/1c/${encodeURIComponent(peer)}/exchange?type=${type}&${q}`;
  const lines = async (res: Response) => (await res.text()).split('\n');
  const auth = await lines(
    await fetch(url('mode=checkauth'), {
      headers: { authorization: `Basic ${Buffer.from(`${peer}:${token}`).toString('base64')}` },
    }),
  );
  if (auth[0] !== 'success') throw new Error(`checkauth: ${auth.join(' ')}`);
  const cookie = `${auth[1]}=${auth[2]}`;
  const init = await lines(await fetch(url('mode=init'), { headers: { cookie } }));
  const limit = Number(/^file_limit=(\d+)$/.exec(init[1] ?? '')?.[1] ?? 1_048_576);

  const name = basename(file);
  const fh = await open(file, 'r');
  const size = (await fh.stat()).size;
  let sent = 0;
  try {
    const buf = Buffer.alloc(limit);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, limit, sent);
      if (bytesRead === 0) break;
      const res = await lines(
        await fetch(url(`mode=file&filename=${encodeURIComponent(name)}`), {
          method: 'POST',
          headers: { cookie, 'content-type': 'application/octet-stream' },
          body: buf.subarray(0, bytesRead),
        }),
      );
      if (res[0] !== 'success') throw new Error(`file: ${res.join(' ')}`);
      sent += bytesRead;
      bar('upload', sent, size);
    }
  } finally {
    await fh.close();
  }
  if (type === 'sale') return { peer, file: name, bytes: sent, result: 'success' };
  // A zip: import each CommerceML file 1C would name (import.xml, then offers.xml).
  const targets = /\.zip$/i.test(name) ? ['import.xml', 'offers.xml'] : [name];
  const results: Record<string, string> = {};
  for (const target of targets) {
    for (let step = 1; ; step++) {
      const res = await lines(
        await fetch(url(`mode=import&filename=${encodeURIComponent(target)}`), { headers: { cookie } }),
      );
      if (res[0] === 'progress') {
        if (process.stderr.isTTY) process.stderr.write(`\r${target}: ${res[1] ?? ''} (step ${step})   `);
        continue;
      }
      if (res[0] !== 'success') {
        if (targets.length > 1 && /was not uploaded|has no file/.test(res[1] ?? '')) break;
        throw new Error(`import ${target}: ${res.slice(1).join(' ')}`);
      }
      results[target] = res[1] ?? 'success';
      break;
    }
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  return { peer, file: name, bytes: sent, imported: results };
}
