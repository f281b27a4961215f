// HTTP Basic auth as Ironic's `http_basic` strategy: users from an Apache htpasswd file whose
// entries are bcrypt hashes. Verified credentials are remembered (by a hash of the header) so
// bcrypt's deliberate slowness is paid once per client, not per request.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';

export class HtpasswdError extends Error {
  readonly reason = 'InvalidHtpasswd';
}

export class BasicAuth {
  private readonly users = new Map<string, string>();
  private readonly verified = new Set<string>();

  constructor(text: string, source = 'htpasswd') {
    text.split(/\r?\n/).forEach((line, i) => {
      const l = line.trim();
      if (!l || l.startsWith('#')) return;
      const at = l.indexOf(':');
      if (at <= 0) throw new HtpasswdError(`${source}:${i + 1}: expected "user:hash"`);
      const hash = l.slice(at + 1);
      if (!/^\$2[aby]\$\d\d\$/.test(hash))
        throw new HtpasswdError(`${source}:${i + 1}: only bcrypt entries are supported (htpasswd -B), as in Ironic's http_basic`);
      this.users.set(l.slice(0, at), hash);
    });
    if (this.users.size === 0) throw new HtpasswdError(`${source}: no users`);
  }

  static fromFile(path: string): BasicAuth {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new HtpasswdError(`cannot read htpasswd file ${path}: ${(e as Error).message}`);
    }
    return new BasicAuth(text, path);
  }

  check(header: string | undefined): boolean {
    if (!header?.startsWith('Basic ')) return false;
    const key = createHash('sha256').update(header).digest('hex');
    if (this.verified.has(key)) return true;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const at = decoded.indexOf(':');
    if (at < 0) return false;
    const hash = this.users.get(decoded.slice(0, at));
    if (!hash) return false;
    if (!bcrypt.compareSync(decoded.slice(at + 1), hash)) return false;
    if (this.verified.size > 1000) this.verified.clear();
    this.verified.add(key);
    return true;
  }
}
