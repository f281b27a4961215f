import { IpmiClient } from '/work/main/emulator/ipmi/client.ts';
const cs = Array.from({ length: 8 }, () => new IpmiClient({ host: '127.0.0.1', port: 16500, username: 'admin', password: 'password', cipherSuite: 3 }));
for (const c of cs) await c.open();
let n = 0; const end = Date.now() + 6000;
await Promise.all(cs.map(async (c) => { while (Date.now() < end) { await c.command(0, 1); n++; } }));
console.log('ops/s', n / 6);
