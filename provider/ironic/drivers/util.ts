import type { Node } from '../model.js';

/** Polls `check` until it is true or `limitMs` passes. */
export async function waitFor(check: () => Promise<boolean>, limitMs: number, pollMs: number): Promise<boolean> {
  const until = Date.now() + limitMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The node's boot mode from properties.capabilities (`boot_mode:uefi|bios`), UEFI by default as in Ironic. */
export function bootModeOf(node: Node): 'uefi' | 'bios' {
  const caps = capabilities(node.properties.capabilities);
  return caps.boot_mode === 'bios' ? 'bios' : 'uefi';
}

export function capabilities(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof v === 'string')
    for (const pair of v.split(',')) {
      const [k, val] = pair.split(':');
      if (k && val !== undefined) out[k.trim()] = val.trim();
    }
  else if (v && typeof v === 'object') for (const [k, val] of Object.entries(v)) out[k] = String(val);
  return out;
}
