// Debian's Chromium driven headless by playwright-core (which never downloads a browser here).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { ROOT } from './apiserver.js';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots the browser tests keep as CI artifacts (README: "Dashboard"). */
export const SCREENSHOTS = join(ROOT, 'test', 'output', 'dashboard');

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: scripts/install-peers.sh installs Debian's chromium (or set CHROMIUM=/path)`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}
