// Which disk the agent deploys to, as ironic-python-agent chooses it: the first disk matching the
// node's root device hints (ironic-lib's hint syntax: `s==`, `s!=`, `<in>`, `<or>` for strings,
// `==`, `!=`, `>=`, `>`, `<=`, `<` for the size in GiB, a boolean for `rotational`), or without
// hints the smallest disk of at least 4 GiB. Hand-written: the hint language is ironic-lib's own.

export interface InventoryDisk {
  name: string;
  model?: string | null;
  size: number;
  rotational?: boolean;
  wwn?: string | null;
  serial?: string | null;
  vendor?: string | null;
  wwn_with_extension?: string | null;
  wwn_vendor_extension?: string | null;
  hctl?: string | null;
  by_path?: string | null;
}

const STRING_HINTS = ['name', 'model', 'vendor', 'serial', 'wwn', 'wwn_with_extension', 'wwn_vendor_extension', 'hctl', 'by_path'] as const;
const GiB = 2 ** 30;

export class NoRootDeviceError extends Error {
  readonly reason = 'DeviceNotFound';
}

/** The hints as Python prints a dict, as IPA's message shows them. */
function pythonRepr(hints: Record<string, unknown>): string {
  const v = (x: unknown) => (typeof x === 'string' ? `'${x}'` : typeof x === 'boolean' ? (x ? 'True' : 'False') : String(x));
  return `{${Object.entries(hints)
    .map(([k, x]) => `'${k}': ${v(x)}`)
    .join(', ')}}`;
}

const devName = (s: string) => (s.startsWith('/dev/') ? s : `/dev/${s}`);

function matchString(hint: string, actual: string | null | undefined, key: string): boolean {
  if (actual === null || actual === undefined) return false;
  const norm = (s: string) => (key === 'name' ? devName(s.trim()) : s.trim());
  const a = norm(actual);
  const m = /^(s==|s!=|<in>|<or>)\s*(.*)$/.exec(hint.trim());
  if (!m) return a === norm(hint);
  const [, op, rest] = m;
  if (op === 's==') return a === norm(rest);
  if (op === 's!=') return a !== norm(rest);
  if (op === '<in>') return a.includes(rest.trim());
  // `<or> a <or> b`: any of them
  return `<or> ${rest}`
    .split('<or>')
    .map((x) => x.trim())
    .filter(Boolean)
    .some((x) => a === norm(x));
}

function matchSize(hint: unknown, bytes: number): boolean {
  const gib = Math.floor(bytes / GiB);
  if (typeof hint === 'number') return gib === hint;
  const m = /^(==|!=|>=|<=|>|<)?\s*(\d+)$/.exec(String(hint).trim());
  if (!m) return false;
  const want = Number(m[2]);
  switch (m[1] ?? '==') {
    case '==':
      return gib === want;
    case '!=':
      return gib !== want;
    case '>=':
      return gib >= want;
    case '<=':
      return gib <= want;
    case '>':
      return gib > want;
    default:
      return gib < want;
  }
}

function matchBool(hint: unknown, actual: boolean | undefined): boolean {
  const want = typeof hint === 'boolean' ? hint : /^(true|1|yes|on)$/i.test(String(hint).trim());
  return Boolean(actual) === want;
}

/** The install disk for these hints (null or empty: IPA's default); throws NoRootDeviceError when none matches. */
export function selectRootDevice(disks: InventoryDisk[], hints: Record<string, unknown> | null | undefined): InventoryDisk {
  const set = Object.fromEntries(Object.entries(hints ?? {}).filter(([, v]) => v !== null && v !== undefined && v !== ''));
  if (Object.keys(set).length === 0) {
    const d = [...disks].filter((x) => x.size >= 4 * GiB).sort((a, b) => a.size - b.size)[0];
    if (!d)
      throw new NoRootDeviceError(
        'No suitable device was found for deployment - root device hints were not provided and all found block devices are smaller than 4294967296B.',
      );
    return d;
  }
  const hit = disks.find((d) =>
    Object.entries(set).every(([k, v]) => {
      if (k === 'size') return matchSize(v, d.size);
      if (k === 'rotational') return matchBool(v, d.rotational);
      if ((STRING_HINTS as readonly string[]).includes(k)) return matchString(String(v), d[k as (typeof STRING_HINTS)[number]], k);
      return false; // a hint the agent does not know matches nothing
    }),
  );
  if (!hit) throw new NoRootDeviceError(`No suitable device was found for deployment using these hints ${pythonRepr(set)}`);
  return hit;
}
