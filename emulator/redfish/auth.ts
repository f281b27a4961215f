// Who may call the service: HTTP Basic or a session token (X-Auth-Token). Accounts come from the
// fleet (each machine's BMC user); an account may reach only the systems whose BMC it belongs to.
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../machine/clock.js';
import { RedfishError } from './errors.js';

export interface Account {
  id: string;
  userName: string;
  password: string;
  roleId: 'Administrator' | 'Operator' | 'ReadOnly';
  /** machine uuids this account administers */
  systems: Set<string>;
}

export interface Session {
  id: string;
  token: string;
  account: Account;
  created: number;
  lastUsed: number;
  origin: string;
}

export interface Principal {
  account: Account;
  session: Session | null;
}

function eq(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class AuthService {
  readonly accounts: Account[] = [];
  readonly sessions = new Map<string, Session>();
  private readonly byToken = new Map<string, Session>();

  constructor(
    private readonly clock: Clock,
    public sessionTimeoutS: number,
    readonly maxSessions: number,
  ) {}

  /** Adds a machine's BMC credentials, merging identical user+password pairs into one account. */
  addCredentials(userName: string, password: string, machineUuid: string): void {
    let a = this.accounts.find((x) => x.userName === userName && x.password === password);
    if (!a) {
      a = { id: String(this.accounts.length + 1), userName, password, roleId: 'Administrator', systems: new Set() };
      this.accounts.push(a);
    }
    a.systems.add(machineUuid);
  }

  private findAccount(userName: string, password: string): Account | null {
    for (const a of this.accounts) if (eq(a.userName, userName) && eq(a.password, password)) return a;
    return null;
  }

  private expire(): void {
    const now = this.clock.now();
    for (const s of this.sessions.values()) {
      if (now - s.lastUsed > this.sessionTimeoutS * 1000) this.remove(s.id);
    }
  }

  /** The caller, or null when no credentials were sent; throws 401 for bad ones. */
  authenticate(headers: IncomingHttpHeaders): Principal | null {
    const token = headers['x-auth-token'];
    if (typeof token === 'string' && token) {
      const s = this.byToken.get(token);
      if (!s || this.clock.now() - s.lastUsed > this.sessionTimeoutS * 1000) {
        if (s) this.remove(s.id);
        throw unauthorized();
      }
      s.lastUsed = this.clock.now();
      return { account: s.account, session: s };
    }
    const h = headers.authorization;
    if (typeof h === 'string' && /^basic /i.test(h)) {
      const dec = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
      const i = dec.indexOf(':');
      const a = i < 0 ? null : this.findAccount(dec.slice(0, i), dec.slice(i + 1));
      if (!a) throw unauthorized();
      return { account: a, session: null };
    }
    if (typeof h === 'string' && h) throw unauthorized();
    return null;
  }

  login(userName: unknown, password: unknown, origin: string): Session {
    if (typeof userName !== 'string')
      throw new RedfishError(400, { messageId: 'PropertyMissing', args: ['UserName'], property: 'UserName' });
    if (typeof password !== 'string')
      throw new RedfishError(400, { messageId: 'PropertyMissing', args: ['Password'], property: 'Password' });
    const a = this.findAccount(userName, password);
    if (!a) throw unauthorized();
    this.expire();
    if (this.sessions.size >= this.maxSessions) throw new RedfishError(503, { messageId: 'SessionLimitExceeded' }, { 'Retry-After': '10' });
    const s: Session = {
      id: randomUUID().slice(0, 8) + randomBytes(4).toString('hex'),
      token: randomBytes(24).toString('hex'),
      account: a,
      created: this.clock.now(),
      lastUsed: this.clock.now(),
      origin,
    };
    this.sessions.set(s.id, s);
    this.byToken.set(s.token, s);
    return s;
  }

  remove(id: string): boolean {
    const s = this.sessions.get(id);
    if (!s) return false;
    this.sessions.delete(id);
    this.byToken.delete(s.token);
    return true;
  }

  activeSessions(): Session[] {
    this.expire();
    return [...this.sessions.values()];
  }
}

export function unauthorized(): RedfishError {
  return new RedfishError(401, { messageId: 'NoValidSession' }, { 'WWW-Authenticate': 'Basic realm="Ferrite BMC", charset="UTF-8"' });
}
