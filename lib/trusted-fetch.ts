// fetch that trusts given PEM CAs besides the public roots: what the simulated firmware (iPXE) and
// agent ramdisk trust (the CAs built into them, as metal3 bakes Ironic's CA into the IPA image and
// iPXE: `bmc serve --trusted-ca`), and what Ironic verifies its own web server with
// (`ironic --webserver-verify-ca`). Node's global fetch cannot take extra CAs, so requests go
// through undici's fetch with an agent that carries them.
import { rootCertificates } from 'node:tls';

export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface FetchResponse {
  ok: boolean;
  status: number;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
  body: ReadableStream<Uint8Array> | null;
}

export type TrustedFetch = (url: string, init?: FetchInit) => Promise<FetchResponse>;

/**
 * fetch that trusts the public roots and these PEM CAs (the global fetch when there are none).
 * undici loads on first use: the agent ramdisk's single-file bundle (scripts/build-vm-images.sh)
 * never needs it, and its CommonJS cannot be evaluated inside an ESM bundle.
 */
export function trustingFetch(cas: string[]): TrustedFetch {
  if (cas.length === 0) return (url, init) => fetch(url, init) as Promise<FetchResponse>;
  let client: Promise<TrustedFetch> | null = null;
  return (url, init) => {
    client ??= import('undici').then(({ Agent, fetch: undiciFetch }) => {
      const dispatcher = new Agent({ connect: { ca: [...rootCertificates, ...cas] } });
      return (u: string, i?: FetchInit) => undiciFetch(u, { ...i, dispatcher }) as unknown as Promise<FetchResponse>;
    });
    return client.then((f) => f(url, init));
  };
}
