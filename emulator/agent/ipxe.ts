// A small iPXE script interpreter for simulated network boots: the subset Ironic's (and
// Ferrite's) scripts use — chain, kernel/initrd/imgargs, boot, sanboot, set, echo, goto/labels,
// `||`/`&&`, exit — with ${mac}, ${mac:hexhyp}, ${uuid} and `set` variables. Firmware fetches
// every image it is told to, so a wrong URL fails the boot like on real hardware.

export interface IpxeEnv {
  mac: string;
  uuid: string;
  fetch(url: string, signal: AbortSignal): Promise<{ ok: boolean; status: number; body: Buffer }>;
  echo(line: string): void;
  signal: AbortSignal;
}

export type IpxeResult =
  | { kind: 'kernel'; kernelUrl: string; kernelBytes: number; params: string; initrds: string[] }
  | { kind: 'sanboot'; url: string }
  | { kind: 'exit'; reason: string };

export class IpxeError extends Error {
  readonly reason = 'IpxeFailed';
}

const MAX_CHAIN = 8;
const MAX_STEPS = 10_000;

/** Runs the script at `url` (as DHCP would hand it out) until it boots something or gives up. */
export async function runIpxe(url: string, env: IpxeEnv): Promise<IpxeResult> {
  const vars = new Map<string, string>([
    ['mac', env.mac],
    ['net0/mac', env.mac],
    ['uuid', env.uuid],
    ['buildarch', 'x86_64'],
    ['platform', 'efi'],
  ]);
  let depth = 0;
  let script = await load(url);
  let base = url;
  let kernel: { url: string; bytes: number; args: string } | null = null;
  const initrds: string[] = [];

  async function load(u: string): Promise<string[]> {
    const r = await env.fetch(u, env.signal);
    if (!r.ok) throw new IpxeError(`could not fetch ${u}: HTTP ${r.status}`);
    const text = r.body.toString('utf8');
    if (!text.startsWith('#!ipxe')) throw new IpxeError(`${u} is not an iPXE script`);
    return text.split(/\r?\n/);
  }
  const expand = (s: string) =>
    s.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      if (name === 'mac:hexhyp') return env.mac.replace(/:/g, '-');
      if (name === 'mac:hexraw') return env.mac.replace(/:/g, '');
      return vars.get(name) ?? '';
    });
  const resolveUrl = (u: string) => new URL(u, base).toString();

  let pc = 0;
  for (let steps = 0; steps < MAX_STEPS; steps++) {
    if (env.signal.aborted) throw env.signal.reason;
    if (pc >= script.length) return { kind: 'exit', reason: 'script ended without booting' };
    const line = script[pc++].trim();
    if (!line || line.startsWith('#') || line.startsWith(':')) continue;
    // `a || b` runs b when a fails; `a && b` runs b when a succeeds
    const orParts = line.split(/\s\|\|\s/);
    let ok = false;
    let jumped = false;
    for (const part of orParts) {
      const andParts = part.split(/\s&&\s/);
      ok = true;
      for (const cmd of andParts) {
        const r = await exec(expand(cmd.trim()));
        if (r === 'jump') {
          jumped = true;
          break;
        }
        if (typeof r === 'object') return r;
        if (!r) {
          ok = false;
          break;
        }
      }
      if (ok || jumped) break;
    }
    if (!ok && !jumped) throw new IpxeError(`command failed: ${line}`);
  }
  throw new IpxeError('script did not finish (loop?)');

  async function exec(cmd: string): Promise<boolean | 'jump' | IpxeResult> {
    const words = cmd.split(/\s+/);
    const op = words[0];
    const positional = stripOptions(words.slice(1));
    switch (op) {
      case 'echo':
        env.echo(words.slice(1).join(' '));
        return true;
      case 'set':
        vars.set(positional[0] ?? '', positional.slice(1).join(' '));
        return true;
      case 'dhcp':
      case 'ifconf':
      case 'sleep':
      case 'prompt':
      case 'imgfree':
        return true;
      case 'goto': {
        const i = script.findIndex((l) => l.trim() === `:${positional[0]}`);
        if (i < 0) throw new IpxeError(`no label :${positional[0]}`);
        pc = i + 1;
        return 'jump';
      }
      case 'exit':
        return { kind: 'exit', reason: 'script exited' };
      case 'chain':
      case 'chainload': {
        if (++depth > MAX_CHAIN) throw new IpxeError('too many chained scripts');
        const u = resolveUrl(positional[0] ?? '');
        try {
          script = await load(u);
        } catch {
          return false;
        }
        base = u;
        pc = 0;
        return 'jump';
      }
      case 'kernel':
      case 'imgexec': {
        const u = resolveUrl(positional[0] ?? '');
        const r = await env.fetch(u, env.signal);
        if (!r.ok) {
          env.echo(`${u}... Error 0x2d12608e (HTTP ${r.status})`);
          return false;
        }
        kernel = { url: u, bytes: r.body.length, args: positional.slice(1).join(' ') };
        return op === 'imgexec' ? boot() : true;
      }
      case 'initrd':
      case 'module': {
        const u = resolveUrl(positional[0] ?? '');
        const r = await env.fetch(u, env.signal);
        if (!r.ok) {
          env.echo(`${u}... Error 0x2d12608e (HTTP ${r.status})`);
          return false;
        }
        initrds.push(u);
        return true;
      }
      case 'imgargs':
        if (kernel) kernel.args = positional.slice(1).join(' ');
        return true;
      case 'boot':
        return boot();
      case 'sanboot':
        return { kind: 'sanboot', url: resolveUrl(positional[0] ?? '') };
      default:
        env.echo(`${op}: command not supported by the simulated firmware`);
        return false;
    }
  }

  function boot(): IpxeResult | false {
    if (!kernel) return false;
    return { kind: 'kernel', kernelUrl: kernel.url, kernelBytes: kernel.bytes, params: kernel.args, initrds };
  }
}

/** Drops `--flag` and `--name value` options, keeping positional words. */
function stripOptions(words: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === '--name' || w === '-n') {
      i++;
      continue;
    }
    if (w.startsWith('--')) continue;
    out.push(w);
  }
  return out;
}

/** Kernel command line → key/value map (flags without `=` map to ''). */
export function parseCmdline(params: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const w of params.split(/\s+/).filter(Boolean)) {
    const i = w.indexOf('=');
    if (i < 0) m.set(w, '');
    else m.set(w.slice(0, i), w.slice(i + 1));
  }
  return m;
}
