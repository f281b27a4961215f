// The ClusterClass inline patch engine (upstream: core/reconcilers/topology/cluster/patches): each
// template a Cluster's topology needs is one item with its holder (infrastructure cluster, control
// plane, or a MachineDeployment class); every enabled patch whose selector matches it is turned
// into RFC 6902 operations (values literal, from a variable, or from a Go template parsed as YAML)
// and applied in the class's order.
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import YAML from 'yaml';
import { cloneJson } from '../../../lib/clone.js';
import { renderTemplate } from '../../../lib/go-template.js';
import type { ClusterClassPatch, JSONPatch } from '../../api/cluster.x-k8s.io/cluster-class.js';
import { CapiError } from '../errors.js';
import { variableValue } from './variables.js';

type Obj = Record<string, unknown>;

export type Holder = { role: 'infrastructureCluster' } | { role: 'controlPlane' } | { role: 'machineDeployment'; class: string };

export interface PatchItem {
  /** what the template becomes (upstream's holder reference) */
  holder: Holder;
  /** the template object (apiVersion, kind, spec.template…), patched in place */
  object: Obj;
  /** global variables (builtin included) merged with this item's own (builtin.machineDeployment, overrides) */
  variables: Obj;
}

/** Does a MachineDeployment class name match a selector name (exact, "*", "prefix*" or "*suffix")? */
export function classNameMatches(selector: string, name: string): boolean {
  if (selector === '*' || selector === name) return true;
  if (selector.startsWith('*')) return name.endsWith(selector.slice(1));
  if (selector.endsWith('*')) return name.startsWith(selector.slice(0, -1));
  return false;
}

type Selector = NonNullable<ClusterClassPatch['definitions']>[number]['selector'];

function matches(item: PatchItem, sel: Selector): boolean {
  if (item.object.apiVersion !== sel.apiVersion || item.object.kind !== sel.kind) return false;
  const m = sel.matchResources;
  switch (item.holder.role) {
    case 'infrastructureCluster':
      return m.infrastructureCluster === true;
    case 'controlPlane':
      return m.controlPlane === true;
    case 'machineDeployment': {
      const cls = item.holder.class;
      return (m.machineDeploymentClass?.names ?? []).some((n) => classNameMatches(n, cls));
    }
  }
}

/** Renders a template over the variables and reads the result as YAML (JSON is YAML), as upstream does. */
export function renderValue(template: string, variables: Obj): unknown {
  const text = renderTemplate(template, variables);
  try {
    return YAML.parse(text);
  } catch (e) {
    throw new CapiError('PatchFailed', `failed to unmarshal rendered template: ${JSON.stringify(text)}: ${(e as Error).message}`);
  }
}

export function patchEnabled(enabledIf: string | undefined, variables: Obj): boolean {
  if (!enabledIf) return true;
  return renderValue(enabledIf, variables) === true;
}

function patchValue(p: JSONPatch, variables: Obj): unknown {
  if (p.value !== undefined) return p.value;
  if (p.valueFrom?.variable) return cloneJson(variableValue(variables, p.valueFrom.variable));
  if (p.valueFrom?.template) return renderValue(p.valueFrom.template, variables);
  throw new CapiError('PatchFailed', 'jsonPatch must define one of value or valueFrom');
}

const itemName = (item: PatchItem) =>
  `${String(item.object.kind)}${item.holder.role === 'machineDeployment' ? ` of MachineDeployment class ${JSON.stringify(item.holder.class)}` : ''}`;

/** Applies the class's patches to every item, in order; the first failure names the patch, the template and the path. */
export function applyPatches(patches: ClusterClassPatch[] | undefined, items: PatchItem[]): void {
  for (const patch of patches ?? []) {
    if (patch.external) continue; // Runtime SDK extensions are not served here (the ClusterClass webhook refuses them)
    for (const item of items) {
      const defs = (patch.definitions ?? []).filter((d) => matches(item, d.selector));
      if (!defs.length) continue;
      let enabled: boolean;
      try {
        enabled = patchEnabled(patch.enabledIf, item.variables);
      } catch (e) {
        throw new CapiError(
          'PatchFailed',
          `patch ${JSON.stringify(patch.name)}: failed to calculate if patch is enabled for ${itemName(item)}: ${(e as Error).message}`,
        );
      }
      if (!enabled) continue;
      for (const d of defs) {
        for (const jp of d.jsonPatches) {
          let op: Operation;
          try {
            op = (
              jp.op === 'remove' ? { op: 'remove', path: jp.path } : { op: jp.op, path: jp.path, value: patchValue(jp, item.variables) }
            ) as Operation;
          } catch (e) {
            throw new CapiError(
              'PatchFailed',
              `patch ${JSON.stringify(patch.name)}: failed to calculate value for ${itemName(item)}: ${(e as Error).message}`,
            );
          }
          try {
            fastJsonPatch.applyOperation(item.object, op, true, true, false);
          } catch (e) {
            const why =
              (e as { name?: string }).name === 'OPERATION_PATH_UNRESOLVABLE' ? 'path does not exist' : (e as Error).message.split('\n')[0];
            throw new CapiError(
              'PatchFailed',
              `patch ${JSON.stringify(patch.name)} cannot ${jp.op} ${jp.path} in ${itemName(item)} ${JSON.stringify(String((item.object.metadata as Obj | undefined)?.name ?? ''))}: ${why}`,
            );
          }
        }
      }
    }
  }
}
