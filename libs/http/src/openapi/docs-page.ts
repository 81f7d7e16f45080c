import type { JsonSchema } from '@switchboard/contracts';

const escapeHtml = (s: string | number | undefined | null): string =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

type Operation = JsonSchema & { tags?: string[]; summary?: string; description?: string };

/** Follows one local `$ref` so the page shows the contract itself, not just its name. */
function resolve(doc: JsonSchema, schema: unknown): unknown {
  const ref = (schema as { $ref?: string } | undefined)?.$ref;
  if (!ref?.startsWith('#/')) return schema;
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
}

function block(title: string, value: unknown): string {
  return `<details><summary>${escapeHtml(title)}</summary><pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre></details>`;
}

/**
 * The docs page: every operation of the document grouped by tag, with its parameters, body schema, answers
 * and security, rendered on the server from the same document /openapi.json serves. Self-contained (no
 * script, no CDN): readable offline, with a screen reader and without JavaScript.
 */
export function renderDocsPage(doc: JsonSchema): string {
  const info = doc.info as { title: string; version: string; description?: string };
  const paths = doc.paths as Record<string, Record<string, Operation>>;
  const byTag = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const parts = [
        `<h3 id="${escapeHtml(op.operationId as string)}"><span class="m ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>`,
        op.summary ? `<p>${escapeHtml(op.summary)}</p>` : '',
        op.description ? `<p>${escapeHtml(op.description)}</p>` : '',
      ];
      const security = (op.security as Array<Record<string, unknown>> | undefined) ?? [];
      parts.push(
        `<p class="sec">Authentication: ${
          security.length
            ? security.map((s) => escapeHtml(Object.keys(s).join(' + '))).join(' <em>or</em> ')
            : 'none'
        }</p>`,
      );
      if (op.parameters) parts.push(block('Parameters', op.parameters));
      const body = op.requestBody as { content: Record<string, { schema: unknown }> } | undefined;
      for (const [type, media] of Object.entries(body?.content ?? {}))
        parts.push(block(`Request body (${type})`, resolve(doc, media.schema)));
      for (const [code, r] of Object.entries(op.responses as Record<string, JsonSchema>)) {
        const response = (resolve(doc, r) ?? r) as { description?: string };
        parts.push(`<p class="resp"><b>${escapeHtml(code)}</b> ${escapeHtml(response.description)}</p>`);
      }
      for (const tag of op.tags ?? ['Other']) {
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag)!.push(`<section class="op">${parts.join('\n')}</section>`);
      }
    }
  }
  const tags = [...byTag.keys()].sort();
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(info.title)} API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:64rem;margin:0 auto;padding:1rem;color:#1a1a1a}
code,pre{font-family:ui-monospace,monospace}pre{background:#f5f5f5;padding:.5rem;overflow:auto;font-size:13px}
.op{border-top:1px solid #ddd;padding:.25rem 0}.m{display:inline-block;min-width:4.5rem;font-weight:600}
.get{color:#05632b}.post{color:#0b4f9c}.patch,.put{color:#7a4b00}.delete{color:#a00}.sec,.resp{margin:.2rem 0}
nav ul{columns:3}
</style></head><body>
<header><h1>${escapeHtml(info.title)} <small>${escapeHtml(info.version)}</small></h1>
<p>${escapeHtml(info.description)}</p>
<p>Machine-readable: <a href="openapi.json">openapi.json</a> (OpenAPI ${escapeHtml(doc.openapi as string)}). Errors are
<code>application/problem+json</code> (RFC 9457) with a stable <code>code</code>.</p></header>
<nav aria-label="Sections"><ul>${tags.map((t) => `<li><a href="#tag-${escapeHtml(t)}">${escapeHtml(t)}</a></li>`).join('')}</ul></nav>
<main>${tags
    .map((t) => `<h2 id="tag-${escapeHtml(t)}">${escapeHtml(t)}</h2>\n${byTag.get(t)!.join('\n')}`)
    .join('\n')}</main>
</body></html>
`;
}
