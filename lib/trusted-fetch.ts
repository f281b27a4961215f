// fetch that trusts given PEM CAs besides the public roots: what the simulated firmware (iPXE) and
// agent ramdisk trust (the CAs built into them, as metal3 bakes Ironic's CA into the IPA image and
// iPXE: `bmc serve --trusted-ca`), and what Ironic verifies its own web server with
// (`ironic --webserver-verify-ca`). Node's global fetch cannot take extra CAs, so requests go
// through undici's fetch with an agent that carries them.
import { rootCertificates } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';

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

/** fetch that trusts the public roots and these PEM CAs (the global fetch when there are none). */
export function trustingFetch(cas: string[]): TrustedFetch {
  if (cas.length === 0) return (url, init) => fetch(url, init) as Promise<FetchResponse>;
  const dispatcher = new Agent({ connect: { ca: [...rootCertificates, ...cas] } });
  return (url, init) => undiciFetch(url, { ...init, dispatcher }) as unknown as Promise<FetchResponse>;
}
