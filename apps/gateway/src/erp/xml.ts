import * as iconv from 'iconv-lite';
import { SaxesParser } from 'saxes';

/** An element as a small tree: only the parts of a document we capture are ever built. */
export interface XmlNode {
  /** Local name: `cbc:ID` -> `ID`. */
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: XmlNode[];
}

/** A document we refuse: where, and what. The exchange shows it to 1C's operator; the HTTP edge to the peer. */
export class XmlError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    readonly what: string,
    /** Unsafe (DTD, depth, size) rather than merely malformed. */
    readonly unsafe = false,
  ) {
    super(`line ${line}, column ${column}: ${what}`);
  }
}

export interface XmlLimits {
  /** Deeper nesting is refused (CommerceML nests ~10 levels, UBL ~8). */
  maxDepth: number;
  /** Elements in one captured subtree; a product or an invoice has far fewer. */
  maxCapturedNodes: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxDepth: 64, maxCapturedNodes: 200_000 };

const localName = (qname: string) => {
  const colon = qname.indexOf(':');
  return colon < 0 ? qname : qname.slice(colon + 1);
};

/** Attributes by local name; saxes' own object (fresh per tag) when no name has a prefix, the common case. */
function localAttributes(attributes: Record<string, string>): Record<string, string> {
  let prefixed = false;
  for (const k in attributes) {
    if (k.includes(':')) {
      prefixed = true;
      break;
    }
  }
  if (!prefixed) return attributes;
  const attrs: Record<string, string> = {};
  for (const k in attributes) attrs[localName(k)] = attributes[k];
  return attrs;
}

interface TextStreamDecoder {
  write(chunk: Buffer): string;
  end(): string | undefined;
}

/**
 * 1C's two encodings go through the runtime's TextDecoder (ICU, ~3x faster than iconv-lite's JS decoder on a
 * 100 MB catalog); every other encoding through iconv-lite. Only these labels: WHATWG maps e.g. latin1 to
 * windows-1252, which is not what such a document means.
 */
const NATIVE_DECODERS = new Set(['utf-8', 'utf8', 'windows-1251', 'cp1251']);

function decoderFor(encoding: string): TextStreamDecoder {
  if (NATIVE_DECODERS.has(encoding)) {
    // A BOM is dropped (ignoreBOM: false), as iconv-lite does; bad bytes become U+FFFD, as with iconv-lite.
    const d = new TextDecoder(encoding);
    return { write: (chunk) => d.decode(chunk, { stream: true }), end: () => d.decode() };
  }
  return iconv.getDecoder(encoding);
}

/**
 * Reads the encoding the XML declaration names from the first bytes (ASCII-compatible encodings only, which
 * covers UTF-8 and windows-1251); a UTF-8 BOM means UTF-8 whatever the declaration says.
 */
export function declaredEncoding(head: Buffer): string {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
  const decl = /^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(
    head.toString('latin1', 0, 300),
  );
  return decl ? decl[1].toLowerCase() : 'utf-8';
}

/**
 * Streaming XML over a saxes parser: feed Buffers with write(), call end(). Elements for which
 * `capture(path)` is true (path = local names from the root, the element last) are built as XmlNode trees and
 * handed to `onNode` when they close; `onOpen` sees every element start (with its attributes). No DTD is
 * processed: a DOCTYPE is refused (so no entity expansion), as is nesting deeper than limits.maxDepth.
 */
export class XmlStream {
  private readonly parser = new SaxesParser({ xmlns: false, position: true });
  private decoder: TextStreamDecoder | null = null;
  private head = Buffer.alloc(0);
  private readonly path: string[] = [];
  private readonly stack: XmlNode[] = [];
  private captured = 0;
  /** Depth inside a pruned element (0: not in one). */
  private pruned = 0;
  private failure: XmlError | null = null;
  encoding = 'utf-8';
  /**
   * Inside captured elements, those for which this is true (path as for `capture`) are not built: parsed and
   * checked as every element is, but no node, text or children (for what no mapping reads).
   */
  prune: ((path: readonly string[]) => boolean) | null = null;

  constructor(
    private readonly capture: (path: readonly string[]) => boolean,
    private readonly onNode: (node: XmlNode, path: readonly string[]) => void,
    private readonly onOpen: (
      name: string,
      attrs: Record<string, string>,
      path: readonly string[],
    ) => void = () => undefined,
    private readonly limits: XmlLimits = DEFAULT_XML_LIMITS,
  ) {
    const p = this.parser;
    p.on('error', (err) => {
      // saxes prefixes "line:column: "; we say it our way.
      this.fail(err.message.replace(/^[^:]*?:?\d+:\d+: /, ''));
    });
    p.on('doctype', () => this.fail('a DOCTYPE (DTD) is not accepted', true));
    p.on('opentag', (tag) => {
      const name = localName(tag.name);
      this.path.push(name);
      if (this.path.length > this.limits.maxDepth) {
        this.fail(`nesting deeper than ${this.limits.maxDepth} levels`, true);
        return;
      }
      const attrs = localAttributes(tag.attributes);
      this.onOpen(name, attrs, this.path);
      if (this.pruned > 0) {
        this.pruned++;
        return;
      }
      if (this.stack.length > 0 && this.prune?.(this.path)) {
        this.pruned = 1;
        return;
      }
      if (this.stack.length > 0 || this.capture(this.path)) {
        if (++this.captured > this.limits.maxCapturedNodes) {
          this.fail(`an element with more than ${this.limits.maxCapturedNodes} elements inside`, true);
          return;
        }
        const node: XmlNode = { name, attrs, text: '', children: [] };
        this.stack[this.stack.length - 1]?.children.push(node);
        this.stack.push(node);
      }
    });
    p.on('text', (t) => this.addText(t));
    p.on('cdata', (t) => this.addText(t));
    p.on('closetag', () => {
      if (this.pruned > 0) {
        this.pruned--;
        this.path.pop();
        return;
      }
      const node = this.stack.pop();
      if (node) {
        node.text = node.text.trim();
        if (this.stack.length === 0) {
          this.captured = 0;
          this.onNode(node, this.path);
        }
      }
      this.path.pop();
    });
  }

  private addText(t: string): void {
    const top = this.stack[this.stack.length - 1];
    if (top && this.pruned === 0 && top.text.length < 100_000) top.text += t;
  }

  private fail(what: string, unsafe = false): never {
    this.failure ??= new XmlError(this.parser.line, this.parser.column + 1, what, unsafe);
    throw this.failure;
  }

  /** Where the parser is (1-based line and column). */
  position(): { line: number; column: number } {
    return { line: this.parser.line, column: this.parser.column + 1 };
  }

  /** Throws XmlError at the first problem (and on every later call). */
  write(chunk: Buffer): void {
    if (this.failure) throw this.failure;
    if (!this.decoder) {
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.length < 300) return;
      chunk = this.start();
    }
    this.feed(this.decoder!.write(chunk));
  }

  end(): void {
    if (this.failure) throw this.failure;
    if (!this.decoder) this.feed(this.decode(this.start()));
    else this.feed(this.decoder.end() ?? '');
    try {
      this.parser.close();
    } catch (err) {
      if (err instanceof XmlError) throw err;
      this.fail((err as Error).message.replace(/^[^:]*?:?\d+:\d+: /, ''));
    }
    this.rethrow();
  }

  private rethrow(): void {
    if (this.failure) throw this.failure;
  }

  private decode(buf: Buffer): string {
    return this.decoder!.write(buf) + (this.decoder!.end() ?? '');
  }

  private start(): Buffer {
    const encoding = declaredEncoding(this.head);
    const refusal = `unknown encoding "${encoding}"`;
    if (!iconv.encodingExists(encoding)) this.fail(refusal);
    this.encoding = encoding;
    // iconv-lite strips a BOM; saxes then sees the declaration as the first thing.
    this.decoder = decoderFor(this.encoding);
    const all = this.head;
    this.head = Buffer.alloc(0);
    return all;
  }

  private feed(text: string): void {
    if (!text) return;
    try {
      this.parser.write(text);
    } catch (err) {
      if (err instanceof XmlError) throw err;
      this.fail((err as Error).message.replace(/^[^:]*?:?\d+:\d+: /, ''));
    }
  }
}

/** The whole document as one tree (small documents: a UBL invoice within the body limit). */
export function parseXmlDocument(bytes: Buffer, limits = DEFAULT_XML_LIMITS): XmlNode {
  let root: XmlNode | null = null;
  const stream = new XmlStream(
    (path) => path.length === 1,
    (node) => (root = node),
    undefined,
    limits,
  );
  stream.write(bytes);
  stream.end();
  if (!root) throw new XmlError(1, 1, 'the document has no root element');
  return root;
}

/** The first child at this path of local names. */
export function child(node: XmlNode | undefined, ...path: string[]): XmlNode | undefined {
  let n = node;
  for (const name of path) n = n?.children.find((c) => c.name === name);
  return n;
}

/** The text at this path; undefined when absent or empty. */
export function text(node: XmlNode | undefined, ...path: string[]): string | undefined {
  const t = child(node, ...path)?.text;
  return t === undefined || t === '' ? undefined : t;
}

export function children(node: XmlNode | undefined, name: string): XmlNode[] {
  return node ? node.children.filter((c) => c.name === name) : [];
}
