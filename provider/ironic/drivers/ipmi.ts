// The `ipmi` hardware type's ipmitool power and management interfaces, spoken natively over
// IPMI 2.0 lanplus (RMCP+) instead of spawning ipmitool per call.
import { IpmiClient, IpmiClientError } from '../../../lib/ipmi/client.js';
import { IronicError } from '../errors.js';
import type { Node } from '../model.js';
import type { BootDevice, ManagementInterface, PowerInterface, PowerTarget } from './interfaces.js';
import { infoStr, requireInfo } from './interfaces.js';
import { bootModeOf, waitFor } from './util.js';

// boot device selector values of the Set System Boot Options boot-flags parameter (IPMI 2.0 §28.13)
const DEVICE_CODE: Partial<Record<BootDevice, number>> = { pxe: 0x04, disk: 0x08, safe: 0x0c, cdrom: 0x14, bios: 0x18 };
const CODE_DEVICE = new Map(Object.entries(DEVICE_CODE).map(([k, v]) => [v, k as BootDevice]));

export class IpmiDriver implements PowerInterface, ManagementInterface {
  /** cipher suite that worked per BMC, when the node does not pin one */
  private readonly suites = new Map<string, 3 | 17>();

  constructor(private readonly opts: { powerTimeoutS: number; requestTimeoutMs: number; pollMs: number; retries: number }) {}

  validate(node: Node): void {
    requireInfo(node, ['ipmi_address'], 'IPMI');
    const port = infoStr(node, 'ipmi_port');
    if (port !== undefined && !/^\d+$/.test(port))
      throw new IronicError('InvalidParameterValue', `Invalid port ${port} in driver_info/ipmi_port`);
    const suite = infoStr(node, 'ipmi_cipher_suite');
    if (suite !== undefined && suite !== '3' && suite !== '17')
      throw new IronicError('InvalidParameterValue', `Unsupported ipmi_cipher_suite ${suite}: Ferrite speaks cipher suites 3 and 17`);
  }

  /** Opens a session, runs `fn`, closes it; retries a lost UDP exchange like ipmitool's retries. */
  private async session<T>(node: Node, fn: (c: IpmiClient) => Promise<T>): Promise<T> {
    this.validate(node);
    const host = infoStr(node, 'ipmi_address') ?? '';
    const port = Number(infoStr(node, 'ipmi_port') ?? 623);
    const pinned = infoStr(node, 'ipmi_cipher_suite');
    const key = `${host}:${port}`;
    const order: Array<3 | 17> = pinned ? [Number(pinned) as 3 | 17] : this.suites.has(key) ? [this.suites.get(key) as 3 | 17] : [17, 3];
    let last: unknown;
    for (let attempt = 0; attempt <= this.opts.retries; attempt++)
      for (const suite of order) {
        const c = new IpmiClient({
          host,
          port,
          username: infoStr(node, 'ipmi_username') ?? '',
          password: infoStr(node, 'ipmi_password') ?? '',
          cipherSuite: suite,
          timeoutMs: this.opts.requestTimeoutMs,
        });
        try {
          await c.open();
          this.suites.set(key, suite);
          try {
            return await fn(c);
          } finally {
            await c.close();
          }
        } catch (e) {
          last = e;
          if (e instanceof IpmiClientError && e.reason === 'AuthFailed' && pinned) break;
        }
      }
    if (last instanceof IpmiClientError) {
      if (last.reason === 'AuthFailed')
        throw new IronicError(
          'BMCAuthFailed',
          `IPMI authentication with ${host}:${port} failed: check ipmi_username and ipmi_password (${last.message})`,
        );
      if (last.reason === 'Timeout') throw new IronicError('BMCUnreachable', `IPMI BMC ${host}:${port} did not answer: ${last.message}`);
      throw new IronicError('Internal', `IPMI command to ${host}:${port} failed: ${last.message}`);
    }
    throw last instanceof Error ? last : new Error(String(last));
  }

  async getPowerState(node: Node): Promise<'power on' | 'power off'> {
    const r = await this.session(node, (c) => c.command(0x00, 0x01));
    return r[0] & 1 ? 'power on' : 'power off';
  }

  private control(node: Node, code: number): Promise<Buffer> {
    return this.session(node, (c) => c.command(0x00, 0x02, [code]));
  }

  async setPowerState(node: Node, target: PowerTarget, timeoutS?: number): Promise<void> {
    const want = target === 'power on' ? 'power on' : 'power off';
    if ((await this.getPowerState(node)) === want) return;
    await this.control(node, target === 'power on' ? 1 : target === 'power off' ? 0 : 5);
    await this.waitPower(node, want, timeoutS);
  }

  private async waitPower(node: Node, want: 'power on' | 'power off', timeoutS?: number): Promise<void> {
    const limit = (timeoutS ?? this.opts.powerTimeoutS) * 1000;
    if (!(await waitFor(async () => (await this.getPowerState(node)) === want, limit, this.opts.pollMs)))
      throw new IronicError('PowerStateFailure', `Failed to set node power state to ${want} within ${limit / 1000} seconds.`);
  }

  async reboot(node: Node, soft: boolean, timeoutS?: number): Promise<void> {
    if ((await this.getPowerState(node)) === 'power on') {
      await this.control(node, soft ? 5 : 0);
      await this.waitPower(node, 'power off', timeoutS);
    }
    await this.control(node, 1);
    await this.waitPower(node, 'power on', timeoutS);
  }

  supportedBootDevices(): BootDevice[] {
    return ['pxe', 'disk', 'cdrom', 'bios', 'safe'];
  }

  async setBootDevice(node: Node, device: BootDevice, persistent: boolean): Promise<void> {
    const code = DEVICE_CODE[device];
    if (code === undefined) throw new IronicError('InvalidParameterValue', `IPMI does not support boot device ${device}`);
    const flags = 0x80 | (persistent ? 0x40 : 0) | (bootModeOf(node) === 'uefi' ? 0x20 : 0);
    await this.session(node, async (c) => {
      // parameter 3 (boot info acknowledge) first, as ipmitool does, then the boot flags
      await c.command(0x00, 0x08, [0x03, 0x1f]).catch(() => Buffer.alloc(0));
      await c.command(0x00, 0x08, [0x05, flags, code, 0, 0, 0]);
    });
  }

  async getBootDevice(node: Node): Promise<{ boot_device: BootDevice | null; persistent: boolean | null }> {
    const r = await this.session(node, (c) => c.command(0x00, 0x09, [0x05, 0, 0]));
    // response: parameter version, parameter selector, then the five boot-flag bytes
    const flags = r[2] ?? 0;
    if (!(flags & 0x80)) return { boot_device: null, persistent: null };
    return { boot_device: CODE_DEVICE.get((r[3] ?? 0) & 0x3c) ?? null, persistent: Boolean(flags & 0x40) };
  }

  async injectNmi(node: Node): Promise<void> {
    await this.control(node, 4);
  }
}
