// PreprovisioningImage (metal3.io/v1alpha1): the agent image a host boots, named like the host,
// answered by the image provider upstream's operator ships by default — the configured agent
// ISO for hosts that accept `iso`, the configured kernel and ramdisk for `initrd`, each per CPU
// architecture when one is configured for it (DEPLOY_ISO_URL_<ARCH>, DEPLOY_ISO_BY_ARCH=arch:url,…).
// Status, conditions (Ready, Error) and their reasons are upstream's; the BareMetalHost
// controller creates the objects and waits for them when --build-preprov-image is on.

import { cloneJson } from '../../lib/clone.js';
import type { KubeObject } from '../kube/client.js';
import { type Condition, getCondition, setCondition } from '../kube/conditions.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { addFinalizer, isDeleting, removeFinalizer } from '../kube/finalizers.js';
import { patchObject } from '../kube/patch-helper.js';
import { semanticEqual } from '../kube/semantic.js';
import { getOrNull } from './companion.js';

export const PPI = { apiVersion: 'metal3.io/v1alpha1', kind: 'PreprovisioningImage' };
export const PPI_FINALIZER = 'preprovisioningimage.metal3.io';
export type ImageFormat = 'iso' | 'initrd';

export interface PreprovisioningImage extends KubeObject {
  metadata: NonNullable<KubeObject['metadata']> & { name: string; namespace: string };
  spec?: { networkDataName?: string; architecture?: string; acceptFormats?: ImageFormat[] };
  status?: {
    imageUrl?: string;
    kernelUrl?: string;
    extraKernelParams?: string;
    format?: ImageFormat;
    architecture?: string;
    networkData?: { name?: string; version?: string };
    conditions?: Condition[];
  };
}

/** Where the agent images are: the controllers' --deploy-*-url flags (DEPLOY_*_URL). */
export interface ImageSources {
  isoUrl?: string;
  kernelUrl?: string;
  ramdiskUrl?: string;
  /** per-architecture overrides, as upstream reads them from its environment */
  env?: NodeJS.ProcessEnv;
}

/** The default image provider: which formats it can serve, and the URLs for one. */
export class EnvImageProvider {
  constructor(private readonly s: ImageSources) {}

  supportsFormat(f: ImageFormat): boolean {
    return f === 'iso' ? Boolean(this.s.isoUrl) : Boolean(this.s.ramdiskUrl && this.s.kernelUrl);
  }

  /** Whether the controller has anything to offer (upstream does not start it otherwise). */
  get enabled(): boolean {
    return this.supportsFormat('iso') || this.supportsFormat('initrd');
  }

  private byArch(base: 'DEPLOY_ISO_URL' | 'DEPLOY_KERNEL_URL' | 'DEPLOY_RAMDISK_URL', fallback: string | undefined, arch: string): string {
    const env = this.s.env ?? {};
    if (arch) {
      const direct = env[`${base}_${arch.toUpperCase()}`];
      if (direct) return direct;
      for (const entry of (env[base.replace(/_URL$/, '_BY_ARCH')] ?? '').split(',')) {
        const i = entry.indexOf(':');
        if (i > 0 && entry.slice(0, i).toLowerCase() === arch.toLowerCase()) return entry.slice(i + 1);
      }
    }
    return fallback ?? '';
  }

  build(format: ImageFormat, arch: string): { imageUrl: string; kernelUrl?: string } {
    if (format === 'iso') return { imageUrl: this.byArch('DEPLOY_ISO_URL', this.s.isoUrl, arch) };
    return {
      kernelUrl: this.byArch('DEPLOY_KERNEL_URL', this.s.kernelUrl, arch),
      imageUrl: this.byArch('DEPLOY_RAMDISK_URL', this.s.ramdiskUrl, arch),
    };
  }
}

const MIN_RETRY_MS = 10_000;
const MAX_RETRY_MS = 600_000;

export function preprovisioningImageController(o: { provider: EnvImageProvider }): ControllerSpec {
  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<PreprovisioningImage>(ctx.client, PPI, req.namespace, req.name);
    if (!found) return undefined;
    const img = found;
    const original = cloneJson(img);
    if (isDeleting(img)) {
      // the image provider keeps nothing per image; others' finalizers go first, as upstream waits for them
      if ((img.metadata.finalizers ?? []).some((f) => f !== PPI_FINALIZER)) return undefined;
      removeFinalizer(img, PPI_FINALIZER);
      await patchObject(ctx.client, original, img);
      return undefined;
    }
    if (addFinalizer(img, PPI_FINALIZER)) {
      await patchObject(ctx.client, original, img);
      return undefined;
    }
    const gen = Number(img.metadata.generation ?? 0);
    const status = cloneJson(img.status ?? {});
    const cond = (type: 'Ready' | 'Error', ok: boolean, reason: string, message: string) => {
      status.conditions = setCondition(status.conditions, {
        type,
        status: ok ? 'True' : 'False',
        reason,
        message,
        observedGeneration: gen,
      });
    };
    const setError = (reason: string, message: string) => {
      delete status.imageUrl;
      cond('Ready', false, reason, '');
      cond('Error', true, reason, message);
    };
    const setImage = (
      image: { imageUrl?: string; kernelUrl?: string },
      format: ImageFormat,
      nd: { name?: string; version?: string },
      message: string,
    ) => {
      if (image.imageUrl) status.imageUrl = image.imageUrl;
      else delete status.imageUrl;
      if (image.kernelUrl) status.kernelUrl = image.kernelUrl;
      else delete status.kernelUrl;
      status.format = format;
      status.architecture = img.spec?.architecture ?? '';
      status.networkData = nd;
      cond('Ready', Boolean(image.imageUrl), 'ImageSuccess', message);
      cond('Error', false, 'ImageSuccess', '');
    };
    let requeue: Result | undefined;
    const arch = img.spec?.architecture ?? '';
    const format = (img.spec?.acceptFormats ?? []).find((f) => o.provider.supportsFormat(f));
    if (!format) setError('ConfigurationError', 'No acceptable image format supported');
    else {
      let nd: { name?: string; version?: string } = {};
      let missing = false;
      if (img.spec?.networkDataName) {
        const secret = await getOrNull<KubeObject>(
          ctx.client,
          { apiVersion: 'v1', kind: 'Secret' },
          img.metadata.namespace,
          img.spec.networkDataName,
        );
        if (!secret) missing = true;
        else nd = { name: img.spec.networkDataName, version: String(secret.metadata?.resourceVersion ?? '') };
      }
      if (missing) {
        setError('MissingNetworkData', 'NetworkData secret not found');
        // upstream backs off from the Error condition's age: 10 s more than it has lasted, at most 10 min
        const since = Date.parse(getCondition(status.conditions, 'Error')?.lastTransitionTime ?? '') || Date.now();
        requeue = { requeueAfterMs: Math.min(MAX_RETRY_MS, Date.now() - since + MIN_RETRY_MS) };
      } else if (status.format !== format || (status.architecture ?? '') !== arch || !semanticEqual(status.networkData ?? {}, nd)) {
        // a changed configuration first drops the old image, then builds the new one
        if (getCondition(status.conditions, 'Ready')?.status === 'True') cond('Ready', false, 'ImageSuccess', 'Config changed');
        else setImage({}, format, nd, 'Config changed');
        requeue = { requeueAfterMs: 1 };
      } else setImage(o.provider.build(format, arch), format, nd, 'Generated image');
    }
    if (!semanticEqual(status, img.status ?? {})) {
      img.status = status;
      await patchObject(ctx.client, original, img);
    }
    return requeue;
  }

  return {
    name: 'preprovisioningimage',
    eventSource: {
      component: 'metal3-preprovisioningimage-controller',
      reportingController: 'metal3.io/preprovisioningimage-controller',
      nameByReason: true,
    },
    for: PPI,
    reconcile,
  };
}
