// Writing generated trees (crds/, config/, release/): write what differs, or with check only
// report it; a stale file that is no longer generated counts as different too.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/**
 * Brings `root` in line with `files` (paths relative to root). `owned` are the folders (relative to
 * root) wholly generated: extra files there are stale. Returns the relative paths that differed.
 */
export function syncGenerated(root: string, files: Map<string, string>, owned: string[], check: boolean): string[] {
  const stale: string[] = [];
  for (const [rel, text] of files) {
    const p = join(root, rel);
    const cur = existsSync(p) ? readFileSync(p, 'utf8') : undefined;
    if (cur === text) continue;
    stale.push(rel);
    if (!check) {
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text);
    }
  }
  for (const dir of owned) {
    for (const p of walk(join(root, dir))) {
      const rel = relative(root, p);
      if (files.has(rel)) continue;
      stale.push(rel);
      if (!check) rmSync(p);
    }
  }
  return stale;
}
