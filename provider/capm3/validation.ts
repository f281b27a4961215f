// CAPM3's admission rules (internal/webhooks/v1beta2), with upstream's field paths and messages:
// what the CRD schema cannot say (an image needs a checksum unless it is a live ISO or an OCI
// image, secret references stay in the namespace, Metal3Data identity is immutable, ...).
import type { KubeObject } from '../kube/client.js';
import { semanticEqual } from '../kube/semantic.js';
import type { WebhookDef } from '../kube/webhooks.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

function validUrl(u: string): boolean {
  try {
    // Go's url.ParseRequestURI wants an absolute URL or an absolute path
    return u.startsWith('/') || Boolean(new URL(u).protocol);
  } catch {
    return false;
  }
}

/** Image.Validate: `base` is upstream's path spelling, e.g. "Spec.Image". */
export function validateImage(image: Obj, base: string): string[] {
  const errs: string[] = [];
  const url = typeof image.url === 'string' ? image.url : '';
  const checksum = typeof image.checksum === 'string' ? image.checksum : undefined;
  if (!url && checksum === undefined) return [`${base}: Required value: either image or customDeploy is required`];
  if (!url) errs.push(`${base}.URL: Required value: cannot be empty`);
  else if (!validUrl(url)) errs.push(`${base}.URL: Invalid value: "${url}": not a valid URL`);
  if (url.startsWith('oci://')) {
    if (checksum) errs.push(`${base}.Checksum: Forbidden: must be empty for OCI images`);
    if (image.checksumType) errs.push(`${base}.ChecksumType: Forbidden: must be empty for OCI images`);
    return errs;
  }
  if (image.diskFormat !== 'live-iso') {
    if (!checksum) errs.push(`${base}.Checksum: Required value: cannot be empty`);
    else if (/^https?:\/\//.test(checksum) && !validUrl(checksum))
      errs.push(`${base}.Checksum: Invalid value: "${checksum}": not a valid URL`);
  }
  return errs;
}

function secretNamespaces(spec: Obj, ns: string | undefined, base: string): string[] {
  const errs: string[] = [];
  for (const f of ['userData', 'metaData', 'networkData']) {
    const ref = obj(spec[f]);
    if (ref.namespace && ref.namespace !== ns)
      errs.push(`${base}.${f}.namespace: Forbidden: cross-namespace secret references are not allowed`);
  }
  return errs;
}

function machineSpec(spec: Obj, ns: string | undefined, imageBase: string, secretBase: string): string[] {
  const errs: string[] = [];
  if (!obj(spec.customDeploy).method) errs.push(...validateImage(obj(spec.image), imageBase));
  errs.push(...secretNamespaces(spec, ns, secretBase));
  return errs;
}

export function validateMetal3Machine(m: KubeObject): string[] {
  return machineSpec(obj((m as Obj).spec), m.metadata?.namespace, 'Spec.Image', 'spec');
}

export function validateMetal3MachineTemplate(t: KubeObject): string[] {
  const spec = obj(obj(obj((t as Obj).spec).template).spec);
  return machineSpec(spec, t.metadata?.namespace, 'Spec.Template.Spec.Image', 'spec.template.spec');
}

export function validateMetal3Cluster(c: KubeObject): string[] {
  const ep = obj(obj((c as Obj).spec).controlPlaneEndpoint);
  return ep.host ? [] : [`spec.controlPlaneEndpoint: Invalid value: ${JSON.stringify(ep)}: is required`];
}

export function validateMetal3DataTemplate(t: KubeObject, old?: KubeObject): string[] {
  const errs: string[] = [];
  const spec = obj((t as Obj).spec);
  if (old) {
    const o = obj((old as Obj).spec);
    if (!semanticEqual(o.metaData, spec.metaData)) errs.push('spec.MetaData: Invalid value: "object": cannot be modified');
    if (!semanticEqual(o.networkData, spec.networkData)) errs.push('spec.NetworkData: Invalid value: "object": cannot be modified');
  }
  const ifaces = obj(spec.metaData).fromHostInterfaces;
  (Array.isArray(ifaces) ? (ifaces as Obj[]) : []).forEach((h, i) => {
    const path = `spec.metaData.fromHostInterfaces[${i}].interface`;
    if (!h.fromBootMAC && !h.interface) errs.push(`${path}: Required value: interface must be specified when fromBootMAC is false`);
    if (h.fromBootMAC && h.interface)
      errs.push(`${path}: Invalid value: "${String(h.interface)}": interface must be empty when fromBootMAC is true`);
  });
  const nets = obj(obj(spec.networkData).networks);
  for (const fam of ['ipv4', 'ipv6']) {
    const list = Array.isArray(nets[fam]) ? (nets[fam] as Obj[]) : [];
    list.forEach((n, i) => {
      if (!obj(n.fromPoolRef).name && !n.ipAddressFromIPPool && !obj(n.fromPoolAnnotation).object) {
        errs.push(
          `spec.networkData.networks.${fam}[${i}].fromPoolRef.name: Required value: fromPoolRef needs to contain a reference to an IPPool`,
        );
      }
    });
  }
  return errs;
}

export function validateMetal3Data(d: KubeObject, old?: KubeObject): string[] {
  const errs: string[] = [];
  const spec = obj((d as Obj).spec);
  const tmpl = obj(spec.template);
  const index = spec.index as number | undefined;
  if (!old) {
    if (index !== undefined && tmpl.name && d.metadata?.name !== `${String(tmpl.name)}-${index}`) {
      errs.push(`name: Invalid value: "${d.metadata?.name}": should follow the convention <Metal3Template Name>-<index>`);
    }
    if (index !== undefined && index < 0) errs.push(`spec.Index: Invalid value: ${index}: must be positive value`);
    return errs;
  }
  const o = obj((old as Obj).spec);
  if ((o.index ?? 0) !== (index ?? 0)) errs.push(`spec.Index: Invalid value: ${index ?? 0}: cannot be modified`);
  for (const f of ['template', 'claim']) {
    const a = obj(o[f]);
    const b = obj(spec[f]);
    if (a.name !== b.name || (b.namespace && a.namespace !== b.namespace))
      errs.push(`spec.${f}: Invalid value: "${String(b.name ?? '')}": cannot be modified`);
  }
  return errs;
}

export function validateMetal3DataClaim(c: KubeObject, old?: KubeObject): string[] {
  const errs: string[] = [];
  const t = obj(obj((c as Obj).spec).template);
  const ns = c.metadata?.namespace;
  if (!old && !t.name) errs.push('spec.template.name: Invalid value: "": must be set');
  if (old) {
    const o = obj(obj((old as Obj).spec).template);
    if (o.name !== t.name || (o.namespace ?? '') !== (t.namespace ?? ''))
      errs.push(`spec.template: Invalid value: "${String(t.name ?? '')}": cannot be modified`);
  }
  if (t.namespace && t.namespace !== ns) {
    errs.push(
      `spec.template.namespace: Invalid value: "${String(t.namespace)}": must be empty or match the Metal3DataClaim namespace; cross-namespace template references are not allowed`,
    );
  }
  return errs;
}

/** Upstream's floor for a reboot's timeout. */
const MIN_TIMEOUT_SECONDS = 100;

export function validateMetal3Remediation(r: KubeObject): string[] {
  return remediationStrategy(obj((r as Obj).spec).strategy);
}

export function validateMetal3RemediationTemplate(r: KubeObject): string[] {
  return remediationStrategy(obj(obj(obj((r as Obj).spec).template).spec).strategy);
}

function remediationStrategy(strategy: unknown): string[] {
  // no strategy at all is left to the controller's defaults
  if (strategy === undefined || strategy === null) return [];
  const s = obj(strategy);
  const errs: string[] = [];
  const timeout = Number(s.timeoutSeconds ?? 0);
  if (timeout !== 0 && timeout < MIN_TIMEOUT_SECONDS) {
    errs.push(`spec.strategy.timeoutSeconds: Invalid value: ${timeout}: min duration is ${MIN_TIMEOUT_SECONDS} seconds`);
  }
  if (s.type !== 'Reboot')
    errs.push(`spec.strategy.type: Invalid value: "${String(s.type ?? '')}": is only supported remediation strategy`);
  if (Number(s.retryLimit ?? 0) < 1)
    errs.push(`spec.strategy.retryLimit: Invalid value: ${Number(s.retryLimit ?? 0)}: is minimum retrylimit`);
  return errs;
}

/** The CAPM3 validating webhooks, at the paths controller-runtime would serve them. */
export const CAPM3_WEBHOOKS: WebhookDef[] = [
  m3('metal3machines', (o) => validateMetal3Machine(o)),
  m3('metal3machinetemplates', (o) => validateMetal3MachineTemplate(o)),
  m3('metal3clusters', (o) => validateMetal3Cluster(o)),
  m3('metal3datatemplates', validateMetal3DataTemplate),
  m3('metal3datas', validateMetal3Data),
  m3('metal3dataclaims', validateMetal3DataClaim),
  m3('metal3remediations', (o) => validateMetal3Remediation(o)),
  m3('metal3remediationtemplates', (o) => validateMetal3RemediationTemplate(o)),
];

/** The API server sends these in the storage version (v1beta2), whichever version was written. */
function m3(resource: string, validate: WebhookDef['validate']): WebhookDef {
  const singular = resource.replace(/s$/, '');
  return {
    name: `validation.${singular}.infrastructure.cluster.x-k8s.io`,
    path: `/validate-infrastructure-cluster-x-k8s-io-v1beta2-${singular}`,
    group: 'infrastructure.cluster.x-k8s.io',
    version: 'v1beta2',
    resource,
    validate,
  };
}
