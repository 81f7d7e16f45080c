import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { ROOT } from './system';

/**
 * Real Chromium for the web console's tests: the system's Debian package (`.ci/run` installs it), driven by
 * playwright-core (no browser download). One browser per suite, a fresh context (cookies, storage) per test.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

export type StorageState = Awaited<ReturnType<BrowserContext['storageState']>>;

export interface ContextOptions {
  /** Cookies to set for the site. */
  cookies?: Record<string, string>;
  /** A signed-in context's cookies and storage (BrowserContext.storageState()), to start where it was. */
  storageState?: StorageState;
  javaScriptEnabled?: boolean;
}

/** A new, isolated context on `baseUrl` (cookies scoped to its host) and a page in it. */
export async function openPage(
  browser: Browser,
  baseUrl: string,
  opts: ContextOptions = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    javaScriptEnabled: opts.javaScriptEnabled ?? true,
    storageState: opts.storageState,
    viewport: { width: 1280, height: 900 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  const url = new URL(baseUrl);
  await context.addCookies(
    Object.entries(opts.cookies ?? {}).map(([name, value]) => ({
      name,
      value,
      domain: url.hostname,
      path: '/',
      httpOnly: true,
      sameSite: 'Strict' as const,
    })),
  );
  context.setDefaultTimeout(20_000);
  return { context, page: await context.newPage() };
}

/**
 * Saves a full-page screenshot. With SAVE_SCREENSHOTS=1 into the console's docs (the README embeds them),
 * otherwise under .data/screenshots so an ordinary run never changes tracked files.
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir =
    process.env.SAVE_SCREENSHOTS === '1'
      ? join(ROOT, 'apps/console/docs/screenshots')
      : join(ROOT, '.data/screenshots');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
