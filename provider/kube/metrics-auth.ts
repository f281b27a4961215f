// controller-runtime's secure metrics filter: the caller's bearer token is authenticated with a
// TokenReview and its right to GET the path is checked with a SubjectAccessReview (a
// nonResourceURL rule, e.g. the `metrics-reader` ClusterRole), both against the cluster the
// controllers manage. Decisions are cached briefly, as the apiserver's delegating filters do, so
// a scraper every few seconds costs two API calls a minute, not two per scrape.
import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { KubeClient } from './client.js';

interface Decision {
  code: 200 | 401 | 403;
  user?: string;
  reason?: string;
  until: number;
}

export function metricsAuthorizer(client: KubeClient, ttlMs = 60_000) {
  const cache = new Map<string, Decision>();
  const decide = async (token: string, path: string, verb: string): Promise<Decision> => {
    const review = (await client.raw('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token },
    })) as {
      status?: {
        authenticated?: boolean;
        user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
        error?: string;
      };
    };
    const st = review.status ?? {};
    if (!st.authenticated || !st.user?.username) {
      return { code: 401, reason: st.error || 'token not authenticated', until: Date.now() + ttlMs };
    }
    const sar = (await client.raw('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: st.user.username,
        uid: st.user.uid,
        groups: st.user.groups,
        extra: st.user.extra,
        nonResourceAttributes: { path, verb },
      },
    })) as { status?: { allowed?: boolean; reason?: string } };
    return sar.status?.allowed
      ? { code: 200, user: st.user.username, until: Date.now() + ttlMs }
      : {
          code: 403,
          user: st.user.username,
          reason: sar.status?.reason || `${st.user.username} may not ${verb} ${path}`,
          until: Date.now() + ttlMs,
        };
  };
  return async (req: Request, res: Response, next: NextFunction) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!m) {
      res.status(401).type('text/plain').end('Unauthorized: a bearer token is required\n');
      return;
    }
    const verb = req.method === 'GET' || req.method === 'HEAD' ? 'get' : req.method.toLowerCase();
    // mounted with app.use('/metrics', …), req.path is relative to the mount: the URL asked for is originalUrl
    const path = req.originalUrl.split('?')[0];
    const key = `${createHash('sha256').update(m[1]).digest('hex')} ${verb} ${path}`;
    let d = cache.get(key);
    if (!d || d.until < Date.now()) {
      try {
        d = await decide(m[1], path, verb);
      } catch (e) {
        // the API server could not be asked: refuse without caching, the next scrape asks again
        res
          .status(503)
          .type('text/plain')
          .end(`cannot authorize: ${(e as Error).message}\n`);
        return;
      }
      if (cache.size > 1000) cache.clear();
      cache.set(key, d);
    }
    if (d.code === 200) return next();
    res
      .status(d.code)
      .type('text/plain')
      .end(`${d.code === 401 ? 'Unauthorized' : 'Forbidden'}: ${d.reason}\n`);
  };
}
