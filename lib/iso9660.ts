// ISO 9660 images with Joliet names: written by Ironic (config drives labelled config-2, virtual
// media boot ISOs) and read by the simulated machines that boot or mount them. Hand-written
// because no maintained npm package writes ISO 9660; upstream shells out to genisoimage, and the
// format subset needed (files and directories, no El Torito) is small.

const SECTOR = 2048;

export interface IsoFile {
  /** slash-separated path without a leading slash, e.g. openstack/latest/meta_data.json */
  path: string;
  data: Buffer;
}

interface DirNode {
  name: string;
  dirs: Map<string, DirNode>;
  files: Map<string, Buffer>;
  parent: DirNode | null;
  number: number;
  lba: number[];
  size: number[];
}

function both16(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(v, 0);
  b.writeUInt16BE(v, 2);
  return b;
}

function both32(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(v, 0);
  b.writeUInt32BE(v, 4);
  return b;
}

function padded(s: string, len: number, joliet: boolean): Buffer {
  if (!joliet) return Buffer.from(s.padEnd(len, ' ').slice(0, len), 'latin1');
  const out = Buffer.alloc(len);
  for (let i = 0; i + 1 < len; i += 2) out.writeUInt16BE(i / 2 < s.length ? s.charCodeAt(i / 2) : 0x20, i);
  return out;
}

function ucs2be(s: string): Buffer {
  const b = Buffer.alloc(s.length * 2);
  for (let i = 0; i < s.length; i++) b.writeUInt16BE(s.charCodeAt(i), i * 2);
  return b;
}

/** ISO 9660 level-2 style name for the primary tree (Joliet carries the real name). */
function primaryName(name: string, isDir: boolean): string {
  let n = name.toUpperCase().replace(/[^A-Z0-9_.]/g, '_');
  if (isDir) return n.replace(/\./g, '_').slice(0, 31);
  const dot = n.lastIndexOf('.');
  const base = (dot >= 0 ? n.slice(0, dot) : n).replace(/\./g, '_');
  const ext = dot >= 0 ? n.slice(dot + 1) : '';
  n = `${base.slice(0, 28 - Math.min(ext.length, 3))}.${ext.slice(0, 3)}`;
  return `${n};1`;
}

function recordDate(d: Date): Buffer {
  return Buffer.from([
    d.getUTCFullYear() - 1900,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    0,
  ]);
}

function dirRecord(nameBytes: Buffer, lba: number, size: number, isDir: boolean, date: Buffer): Buffer {
  const len = 33 + nameBytes.length + (nameBytes.length % 2 === 0 ? 1 : 0);
  const r = Buffer.alloc(len);
  r[0] = len;
  both32(lba).copy(r, 2);
  both32(size).copy(r, 10);
  date.copy(r, 18);
  r[25] = isDir ? 2 : 0;
  both16(1).copy(r, 28);
  r[32] = nameBytes.length;
  nameBytes.copy(r, 33);
  return r;
}

/** Builds an ISO image holding `files` with volume label `label`. */
export function buildIso(label: string, files: IsoFile[], now = new Date()): Buffer {
  const root: DirNode = { name: '', dirs: new Map(), files: new Map(), parent: null, number: 1, lba: [0, 0], size: [0, 0] };
  for (const f of files) {
    const parts = f.path.split('/').filter(Boolean);
    const fileName = parts.pop();
    if (!fileName) throw new Error(`empty ISO path "${f.path}"`);
    let d = root;
    for (const p of parts) {
      let next = d.dirs.get(p);
      if (!next) {
        next = { name: p, dirs: new Map(), files: new Map(), parent: d, number: 0, lba: [0, 0], size: [0, 0] };
        d.dirs.set(p, next);
      }
      d = next;
    }
    d.files.set(fileName, f.data);
  }
  // breadth-first numbering, as path tables require
  const order: DirNode[] = [root];
  for (let i = 0; i < order.length; i++) for (const c of [...order[i].dirs.values()].sort((a, b) => cmp(a.name, b.name))) order.push(c);
  order.forEach((d, i) => {
    d.number = i + 1;
  });
  const date = recordDate(now);
  const nameOf = (n: string, isDir: boolean, tree: number) => (tree === 0 ? Buffer.from(primaryName(n, isDir), 'latin1') : ucs2be(n));

  // sizes of each directory's extent per tree
  const entriesOf = (d: DirNode, tree: number) => {
    const items: Array<{ name: Buffer; isDir: boolean; dir?: DirNode; data?: Buffer }> = [];
    for (const c of [...d.dirs.values()].sort((a, b) => cmp(a.name, b.name)))
      items.push({ name: nameOf(c.name, true, tree), isDir: true, dir: c });
    for (const [n, data] of [...d.files.entries()].sort((a, b) => cmp(a[0], b[0])))
      items.push({ name: nameOf(n, false, tree), isDir: false, data });
    return items;
  };
  const dirSize = (d: DirNode, tree: number) => {
    let used = 34 * 2;
    let size = SECTOR;
    for (const it of entriesOf(d, tree)) {
      const len = 33 + it.name.length + (it.name.length % 2 === 0 ? 1 : 0);
      if ((used % SECTOR) + len > SECTOR) used = Math.ceil(used / SECTOR) * SECTOR;
      used += len;
    }
    size = Math.ceil(used / SECTOR) * SECTOR;
    return size;
  };
  const pathTable = (tree: number, bigEndian: boolean) => {
    const parts: Buffer[] = [];
    for (const d of order) {
      const name = d === root ? Buffer.from([0]) : nameOf(d.name, true, tree);
      const e = Buffer.alloc(8 + name.length + (name.length % 2));
      e[0] = name.length;
      if (bigEndian) {
        e.writeUInt32BE(d.lba[tree], 2);
        e.writeUInt16BE(d.parent ? d.parent.number : 1, 6);
      } else {
        e.writeUInt32LE(d.lba[tree], 2);
        e.writeUInt16LE(d.parent ? d.parent.number : 1, 6);
      }
      name.copy(e, 8);
      parts.push(e);
    }
    return Buffer.concat(parts);
  };

  // layout: 16 system sectors, PVD, SVD, terminator, 4 path tables, directories (both trees), files
  let lba = 19;
  const ptSize = [pathTable(0, false).length, pathTable(1, false).length];
  const ptLba: number[][] = [[], []];
  for (const tree of [0, 1]) {
    ptLba[tree][0] = lba;
    lba += Math.ceil(ptSize[tree] / SECTOR);
    ptLba[tree][1] = lba;
    lba += Math.ceil(ptSize[tree] / SECTOR);
  }
  for (const tree of [0, 1])
    for (const d of order) {
      d.size[tree] = dirSize(d, tree);
      d.lba[tree] = lba;
      lba += d.size[tree] / SECTOR;
    }
  const fileLba = new Map<Buffer, number>();
  for (const d of order)
    for (const data of d.files.values()) {
      fileLba.set(data, lba);
      lba += Math.max(1, Math.ceil(data.length / SECTOR));
    }
  const total = lba;
  const img = Buffer.alloc(total * SECTOR);

  const rootRecord = (tree: number) => dirRecord(Buffer.from([0]), root.lba[tree], root.size[tree], true, date);
  const descriptor = (type: number, tree: number) => {
    const v = Buffer.alloc(SECTOR);
    v[0] = type;
    v.write('CD001', 1, 'latin1');
    v[6] = 1;
    const joliet = tree === 1;
    padded('LINUX', 32, joliet).copy(v, 8);
    padded(label, 32, joliet).copy(v, 40);
    both32(total).copy(v, 80);
    if (joliet) v.write('%/E', 88, 'latin1');
    both16(1).copy(v, 120);
    both16(1).copy(v, 124);
    both16(SECTOR).copy(v, 128);
    both32(ptSize[tree]).copy(v, 132);
    v.writeUInt32LE(ptLba[tree][0], 140);
    v.writeUInt32BE(ptLba[tree][1], 148);
    rootRecord(tree).copy(v, 156);
    for (const [off, len] of [
      [190, 128],
      [318, 128],
      [446, 128],
    ])
      padded('', len, joliet).copy(v, off);
    padded('FERRITE', 128, joliet).copy(v, 574);
    for (const off of [813, 830, 847, 864]) {
      v.write('0000000000000000', off, 'latin1');
      v[off + 16] = 0;
    }
    v[881] = 1;
    return v;
  };
  descriptor(1, 0).copy(img, 16 * SECTOR);
  descriptor(2, 1).copy(img, 17 * SECTOR);
  const term = Buffer.alloc(SECTOR);
  term[0] = 255;
  term.write('CD001', 1, 'latin1');
  term[6] = 1;
  term.copy(img, 18 * SECTOR);
  for (const tree of [0, 1]) {
    pathTable(tree, false).copy(img, ptLba[tree][0] * SECTOR);
    pathTable(tree, true).copy(img, ptLba[tree][1] * SECTOR);
    for (const d of order) {
      let off = d.lba[tree] * SECTOR;
      const end = off + d.size[tree];
      const put = (r: Buffer) => {
        if ((off % SECTOR) + r.length > SECTOR) off = Math.ceil(off / SECTOR) * SECTOR;
        if (off + r.length > end) throw new Error('ISO directory overflow');
        r.copy(img, off);
        off += r.length;
      };
      put(dirRecord(Buffer.from([0]), d.lba[tree], d.size[tree], true, date));
      const parent = d.parent ?? d;
      put(dirRecord(Buffer.from([1]), parent.lba[tree], parent.size[tree], true, date));
      for (const it of entriesOf(d, tree)) {
        if (it.dir) put(dirRecord(it.name, it.dir.lba[tree], it.dir.size[tree], true, date));
        else if (it.data) put(dirRecord(it.name, fileLba.get(it.data) ?? 0, it.data.length, false, date));
      }
    }
  }
  for (const [data, at] of fileLba) data.copy(img, at * SECTOR);
  return img;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class IsoFormatError extends Error {
  readonly reason = 'InvalidIso';
}

export interface IsoImage {
  label: string;
  /** every file path (Joliet names when present) → its size */
  files: Map<string, { lba: number; size: number }>;
  read(path: string): Buffer | null;
}

/** Parses an ISO 9660 image held in memory, preferring Joliet names. */
export function readIso(img: Buffer): IsoImage {
  if (img.length < 17 * SECTOR) throw new IsoFormatError('not an ISO 9660 image: too short');
  let pvd: Buffer | null = null;
  let joliet: Buffer | null = null;
  for (let s = 16; (s + 1) * SECTOR <= img.length; s++) {
    const v = img.subarray(s * SECTOR, (s + 1) * SECTOR);
    if (v.toString('latin1', 1, 6) !== 'CD001') throw new IsoFormatError('not an ISO 9660 image: no CD001 volume descriptor');
    if (v[0] === 255) break;
    if (v[0] === 1) pvd = v;
    if (v[0] === 2 && v.toString('latin1', 88, 90) === '%/' && '@CE'.includes(v.toString('latin1', 90, 91))) joliet = v;
  }
  const vd = joliet ?? pvd;
  if (!vd) throw new IsoFormatError('not an ISO 9660 image: no primary volume descriptor');
  const isJ = vd === joliet;
  const text = (b: Buffer) => (isJ ? decodeUcs2(b) : b.toString('latin1')).replace(/[\s\0]+$/, '');
  const label = text(vd.subarray(40, 72));
  const files = new Map<string, { lba: number; size: number }>();
  const walk = (lba: number, size: number, prefix: string, depth: number) => {
    if (depth > 16) throw new IsoFormatError('ISO directory tree too deep');
    let off = lba * SECTOR;
    const end = off + size;
    if (end > img.length) throw new IsoFormatError('ISO directory extends past the end of the image');
    while (off < end) {
      const len = img[off];
      if (len === 0) {
        off = (Math.floor(off / SECTOR) + 1) * SECTOR;
        continue;
      }
      const rec = img.subarray(off, off + len);
      off += len;
      const nameLen = rec[32];
      const nameRaw = rec.subarray(33, 33 + nameLen);
      if (nameLen === 1 && (nameRaw[0] === 0 || nameRaw[0] === 1)) continue;
      let name = isJ ? decodeUcs2(nameRaw) : nameRaw.toString('latin1');
      name = name.replace(/;\d+$/, '');
      if (!isJ) name = name.replace(/\.$/, '').toLowerCase();
      const extent = rec.readUInt32LE(2);
      const dataLen = rec.readUInt32LE(10);
      if (rec[25] & 2) walk(extent, dataLen, `${prefix}${name}/`, depth + 1);
      else files.set(`${prefix}${name}`, { lba: extent, size: dataLen });
    }
  };
  walk(vd.readUInt32LE(156 + 2), vd.readUInt32LE(156 + 10), '', 0);
  return {
    label,
    files,
    read(path: string) {
      const f = files.get(path.replace(/^\/+/, ''));
      if (!f) return null;
      if (f.lba * SECTOR + f.size > img.length) throw new IsoFormatError(`file ${path} extends past the end of the image`);
      return Buffer.from(img.subarray(f.lba * SECTOR, f.lba * SECTOR + f.size));
    },
  };
}

function decodeUcs2(b: Buffer): string {
  let s = '';
  for (let i = 0; i + 1 < b.length; i += 2) s += String.fromCharCode(b.readUInt16BE(i));
  return s;
}
