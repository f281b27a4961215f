// Conversion webhooks for CRDs with `conversion.strategy: Webhook`: a ConversionReview v1 per
// batch of objects, with kube-apiserver's checks on the answer (same count, the desired
// apiVersion, and no change to an object's identity).
import { randomUUID } from 'node:crypto';
import { ApiError } from './errors.js';
import { type ClientConfig, callWebhook } from './webhook-client.js';

type Obj = Record<string, unknown>;

function fail(kind: string, why: string): never {
  throw new ApiError(500, 'InternalError', `Internal error occurred: conversion webhook for ${kind} failed: ${why}`);
}

export async function convertByWebhook(cc: ClientConfig, kind: string, objs: Obj[], desiredAPIVersion: string): Promise<Obj[]> {
  const idx: number[] = [];
  objs.forEach((o, i) => {
    if (o.apiVersion !== desiredAPIVersion) idx.push(i);
  });
  if (idx.length === 0) return objs;
  const uid = randomUUID();
  let out: Obj;
  try {
    out = await callWebhook(
      cc,
      {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'ConversionReview',
        request: { uid, desiredAPIVersion, objects: idx.map((i) => objs[i]) },
      },
      30_000,
    );
  } catch (e) {
    fail(kind, (e as Error).message);
  }
  const response = out.response as { uid?: string; convertedObjects?: Obj[]; result?: { status?: string; message?: string } } | undefined;
  if (!response) fail(kind, 'the ConversionReview has no response');
  if (response.uid !== uid) fail(kind, `expected response uid ${uid}, got ${String(response.uid)}`);
  if (response.result?.status !== 'Success') fail(kind, response.result?.message ?? 'conversion was not successful');
  const converted = response.convertedObjects ?? [];
  if (converted.length !== idx.length) fail(kind, `expected ${idx.length} converted objects, got ${converted.length}`);
  const result = [...objs];
  converted.forEach((c, j) => {
    const orig = objs[idx[j]];
    if (c.apiVersion !== desiredAPIVersion) fail(kind, `expected apiVersion ${desiredAPIVersion}, got ${String(c.apiVersion)}`);
    const om = (orig.metadata ?? {}) as Obj;
    const cm = (c.metadata ?? {}) as Obj;
    for (const f of ['name', 'namespace', 'uid']) {
      if (om[f] !== cm[f]) fail(kind, `the webhook changed metadata.${f}`);
    }
    // only labels and annotations of metadata may change; everything else keeps the stored value
    result[idx[j]] = { ...c, metadata: { ...om, labels: cm.labels, annotations: cm.annotations } };
  });
  return result;
}
