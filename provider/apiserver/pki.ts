// The server's credentials: a CA, a serving certificate signed by it, and a bearer token, made
// on first start and kept in the data directory so kubeconfigs stay valid across restarts.
import { randomBytes, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface Credentials {
  caPem: string;
  certPem: string;
  keyPem: string;
  token: string;
}

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

function pemKey(der: ArrayBuffer): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

async function generate(hosts: string[], cn: string): Promise<Credentials> {
  const subtle = webcrypto.subtle as unknown as SubtleCrypto;
  const caKeys = (await subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name: 'CN=ferrite-ca',
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const keys = (await subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const ips = hosts.filter((h) => /^[\d.]+$/.test(h) || h.includes(':'));
  const dns = hosts.filter((h) => !ips.includes(h));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(8).toString('hex'),
    subject: `CN=${cn}`,
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...dns.map((value) => ({ type: 'dns' as const, value })),
        ...ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  return {
    caPem: ca.toString('pem'),
    certPem: cert.toString('pem'),
    keyPem: pemKey(await subtle.exportKey('pkcs8', keys.privateKey)),
    token: randomBytes(24).toString('base64url'),
  };
}

/** Loads credentials from dir, creating them (for these hosts) on first use. */
export async function loadOrCreateCredentials(dir: string, hosts: string[], name = 'apiserver'): Promise<Credentials> {
  const pki = join(dir, 'pki');
  const files = { caPem: 'ca.crt', certPem: `${name}.crt`, keyPem: `${name}.key`, token: 'token' } as const;
  const wanted = [...new Set(['localhost', '127.0.0.1', ...hosts])];
  const sansFile = join(pki, 'sans');
  if (Object.values(files).every((f) => existsSync(join(pki, f))) && existsSync(sansFile)) {
    const sans = readFileSync(sansFile, 'utf8').split('\n').filter(Boolean);
    if (wanted.every((h) => sans.includes(h))) {
      const read = (f: string) => readFileSync(join(pki, f), 'utf8');
      return { caPem: read(files.caPem), certPem: read(files.certPem), keyPem: read(files.keyPem), token: read(files.token).trim() };
    }
  }
  mkdirSync(pki, { recursive: true, mode: 0o700 });
  const c = await generate(wanted, `ferrite-${name}`);
  // a token minted earlier stays valid so existing kubeconfigs keep working
  if (existsSync(join(pki, files.token))) c.token = readFileSync(join(pki, files.token), 'utf8').trim();
  writeFileSync(join(pki, files.caPem), c.caPem);
  writeFileSync(join(pki, files.certPem), c.certPem);
  writeFileSync(join(pki, files.keyPem), c.keyPem, { mode: 0o600 });
  writeFileSync(join(pki, files.token), `${c.token}\n`, { mode: 0o600 });
  writeFileSync(sansFile, `${wanted.join('\n')}\n`);
  return c;
}

export function kubeconfigYaml(server: string, c: Credentials, name = 'ferrite'): string {
  const ca = Buffer.from(c.caPem).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: ${name}
  cluster:
    server: ${server}
    certificate-authority-data: ${ca}
users:
- name: ${name}-admin
  user:
    token: ${c.token}
contexts:
- name: ${name}
  context:
    cluster: ${name}
    user: ${name}-admin
    namespace: default
current-context: ${name}
preferences: {}
`;
}

/** A certificate authority: self-signed, for kubeadm-style cluster PKI (CA, etcd CA, front proxy CA). */
export async function createCertificateAuthority(cn: string, years = 10): Promise<{ certPem: string; keyPem: string }> {
  const subtle = webcrypto.subtle as unknown as SubtleCrypto;
  const keys = (await subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name: `CN=${cn}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + years * 365 * 24 * 3600 * 1000),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: pemKey(await subtle.exportKey('pkcs8', keys.privateKey)) };
}

async function importKey(keyPem: string): Promise<CryptoKey> {
  const der = Buffer.from(keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const subtle = webcrypto.subtle as unknown as SubtleCrypto;
  return subtle.importKey('pkcs8', der, alg, true, ['sign']);
}

/**
 * A leaf certificate signed by a CA: serving (hosts become SANs) and/or client (CN = user,
 * organisation = groups, as Kubernetes reads them).
 */
export async function signCertificate(o: {
  ca: { certPem: string; keyPem: string };
  cn: string;
  organizations?: string[];
  hosts?: string[];
  server?: boolean;
  client?: boolean;
  years?: number;
}): Promise<{ certPem: string; keyPem: string }> {
  const subtle = webcrypto.subtle as unknown as SubtleCrypto;
  const caCert = new x509.X509Certificate(o.ca.certPem);
  const caKey = await importKey(o.ca.keyPem);
  const keys = (await subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const hosts = o.hosts ?? [];
  const ips = hosts.filter((h) => /^[\d.]+$/.test(h) || h.includes(':'));
  const dns = hosts.filter((h) => !ips.includes(h));
  const usages = [...(o.server ? [x509.ExtendedKeyUsage.serverAuth] : []), ...(o.client ? [x509.ExtendedKeyUsage.clientAuth] : [])];
  const subject = [`CN=${o.cn}`, ...(o.organizations ?? []).map((g) => `O=${g}`)].join(', ');
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(8).toString('hex'),
    subject,
    issuer: caCert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + (o.years ?? 1) * 365 * 24 * 3600 * 1000),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      ...(usages.length ? [new x509.ExtendedKeyUsageExtension(usages)] : []),
      ...(hosts.length
        ? [
            new x509.SubjectAlternativeNameExtension([
              ...dns.map((value) => ({ type: 'dns' as const, value })),
              ...ips.map((value) => ({ type: 'ip' as const, value })),
            ]),
          ]
        : []),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: pemKey(await subtle.exportKey('pkcs8', keys.privateKey)) };
}

/**
 * A new CA (named `<cn>-ca`: a leaf whose subject equals its issuer's would read as self-signed)
 * and a serving certificate it signs for these hosts.
 */
export async function createServingCertificate(
  cn: string,
  hosts: string[],
  years = 1,
): Promise<{ caPem: string; caKeyPem: string; certPem: string; keyPem: string }> {
  const ca = await createCertificateAuthority(`${cn}-ca`, years);
  const leaf = await signCertificate({ ca, cn, hosts, server: true, years });
  return { caPem: ca.certPem, caKeyPem: ca.keyPem, certPem: leaf.certPem, keyPem: leaf.keyPem };
}

/** A kubeconfig that authenticates with a client certificate (what kubeadm writes as admin.conf). */
export function clientCertKubeconfig(o: {
  server: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  cluster: string;
  user: string;
}): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: ${o.cluster}
  cluster:
    server: ${o.server}
    certificate-authority-data: ${b64(o.caPem)}
users:
- name: ${o.user}
  user:
    client-certificate-data: ${b64(o.certPem)}
    client-key-data: ${b64(o.keyPem)}
contexts:
- name: ${o.user}@${o.cluster}
  context:
    cluster: ${o.cluster}
    user: ${o.user}
current-context: ${o.user}@${o.cluster}
preferences: {}
`;
}
