// A cluster's kubeadm PKI as Cluster API keeps it in the management cluster: Secrets
// `<cluster>-ca`, `-etcd`, `-proxy` (tls.crt/tls.key) and `-sa` (the service account key pair),
// type cluster.x-k8s.io/secret, labelled with the cluster name. Found or made, never replaced.
import { createHash, createPublicKey, generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import * as x509 from '@peculiar/x509';
import { createCertificateAuthority } from '../../apiserver/pki.js';
import { isAlreadyExists, type KubeClient, type KubeObject } from '../../kube/client.js';
import { getOrNull } from '../../kube/read.js';
import { K, L } from '../common.js';

export interface KeyPair {
  certPem: string;
  keyPem: string;
}

export interface ClusterCertificates {
  ca: KeyPair;
  etcd: KeyPair;
  proxy: KeyPair;
  /** service account signing key: certPem holds the public key */
  sa: KeyPair;
}

/** Where kubeadm expects each piece on a control plane node. */
export const CERT_PATHS: Array<[keyof ClusterCertificates, string, string]> = [
  ['ca', '/etc/kubernetes/pki/ca.crt', '/etc/kubernetes/pki/ca.key'],
  ['etcd', '/etc/kubernetes/pki/etcd/ca.crt', '/etc/kubernetes/pki/etcd/ca.key'],
  ['proxy', '/etc/kubernetes/pki/front-proxy-ca.crt', '/etc/kubernetes/pki/front-proxy-ca.key'],
  ['sa', '/etc/kubernetes/pki/sa.pub', '/etc/kubernetes/pki/sa.key'],
];

const SUFFIX: Record<keyof ClusterCertificates, string> = { ca: 'ca', etcd: 'etcd', proxy: 'proxy', sa: 'sa' };

async function make(kind: keyof ClusterCertificates): Promise<KeyPair> {
  if (kind === 'sa') {
    // on libuv's thread pool: a 2048-bit RSA key takes ~0.2 s, which blocked every reconcile when synchronous
    const { publicKey, privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
    return {
      certPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      keyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    };
  }
  const cn = kind === 'ca' ? 'kubernetes' : kind === 'etcd' ? 'etcd-ca' : 'front-proxy-ca';
  return createCertificateAuthority(cn);
}

type SecretObj = KubeObject & { data?: Record<string, string> };
const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');

/**
 * The cluster's certificates: read from their Secrets, the missing ones generated and stored
 * (owned by `owner`). Two writers racing lose nothing: a create that finds the Secret made by the
 * other re-reads it.
 */
export async function lookupOrGenerate(
  client: KubeClient,
  namespace: string,
  cluster: string,
  owner: KubeObject | null,
): Promise<ClusterCertificates> {
  const out: Partial<ClusterCertificates> = {};
  for (const kind of Object.keys(SUFFIX) as Array<keyof ClusterCertificates>) {
    const name = `${cluster}-${SUFFIX[kind]}`;
    let s = await getOrNull<SecretObj>(client, K.secret, namespace, name);
    if (!s) {
      const kp = await make(kind);
      try {
        s = await client.create<SecretObj>({
          apiVersion: 'v1',
          kind: 'Secret',
          type: 'cluster.x-k8s.io/secret',
          metadata: {
            name,
            namespace,
            labels: { [L.clusterName]: cluster },
            ...(owner
              ? {
                  ownerReferences: [
                    {
                      apiVersion: String(owner.apiVersion),
                      kind: String(owner.kind),
                      name: String(owner.metadata?.name),
                      uid: String(owner.metadata?.uid),
                      controller: true,
                    },
                  ],
                }
              : {}),
          },
          data: { 'tls.crt': b64(kp.certPem), 'tls.key': b64(kp.keyPem) },
        } as SecretObj);
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
        s = await client.get<SecretObj>('v1', 'Secret', namespace, name);
      }
    }
    out[kind] = { certPem: unb64(s.data?.['tls.crt']), keyPem: unb64(s.data?.['tls.key']) };
  }
  return out as ClusterCertificates;
}

/** kubeadm's discovery pin: "sha256:" + the SHA-256 of the CA's SubjectPublicKeyInfo. */
export function caCertHash(caPem: string): string {
  const cert = new x509.X509Certificate(caPem);
  const spki = createPublicKey(cert.publicKey.toString('pem')).export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}
