// BareMetalHost conditions as upstream's computeConditions sets them (v0.13+), as data: each
// provisioning state maps to the status and reason of Manageable, AvailableForProvisioning,
// Provisioned, Ready and Progressing; operational status and the node's power fault and health
// adjust them after.
import type { BareMetalHost } from '../api/metal3.io/v1alpha1/baremetalhost.js';
import { type Condition, setCondition } from '../kube/conditions.js';
import type { HostState } from './host-state-machine.js';

type C = [status: 'True' | 'False', reason: string];
interface Row {
  Manageable: C;
  AvailableForProvisioning: C;
  Provisioned: C;
  Ready: C;
  Progressing: C;
}

const notManaged: Row = {
  Manageable: ['False', 'NotManaged'],
  AvailableForProvisioning: ['False', 'NotAvailable'],
  Provisioned: ['False', 'NotProvisioned'],
  Ready: ['False', 'NotProvisioned'],
  Progressing: ['False', 'NotProgressing'],
};
const progressing = (reason: string): Row => ({
  Manageable: ['True', 'Manageable'],
  AvailableForProvisioning: ['False', 'NotAvailable'],
  Provisioned: ['False', 'NotProvisioned'],
  Ready: ['False', 'NotProvisioned'],
  Progressing: ['True', reason],
});
const provisioned: Row = {
  Manageable: ['True', 'Manageable'],
  AvailableForProvisioning: ['False', 'NotAvailable'],
  Provisioned: ['True', 'Provisioned'],
  Ready: ['True', 'Provisioned'],
  Progressing: ['False', 'NotProgressing'],
};
const available: Row = {
  Manageable: ['True', 'Manageable'],
  AvailableForProvisioning: ['True', 'Available'],
  Provisioned: ['False', 'NotProvisioned'],
  Ready: ['False', 'NotProvisioned'],
  Progressing: ['False', 'NotProgressing'],
};

const BY_STATE: Record<HostState, Row> = {
  '': notManaged,
  unmanaged: notManaged,
  registering: { ...notManaged, Manageable: ['False', 'Registering'], Progressing: ['True', 'Registering'] },
  'match profile': progressing('Inspecting'),
  inspecting: progressing('Inspecting'),
  preparing: progressing('Preparing'),
  ready: available,
  available,
  provisioning: progressing('Provisioning'),
  provisioned,
  'externally provisioned': provisioned,
  deprovisioning: progressing('Deprovisioning'),
  'powering off before delete': progressing('PoweringOffBeforeDelete'),
  deleting: progressing('Deleting'),
};

export function computeConditions(
  h: BareMetalHost,
  node: { fault: string | null; health?: string | null } | null,
  now = new Date(),
): Condition[] {
  const s = h.status ?? {};
  const state = (s.provisioning?.state ?? '') as HostState;
  const row = { ...BY_STATE[state] };
  if (state === 'registering' && s.operationalStatus === 'error') row.Manageable = ['False', 'RegistrationFailed'];
  let powerCheck = !['', 'unmanaged', 'registering', 'deleting'].includes(state);
  if (s.operationalStatus === 'error') row.Ready = ['False', 'Error'];
  if (s.operationalStatus === 'servicing') row.Ready = ['False', 'Servicing'];
  if (s.operationalStatus === 'detached') {
    powerCheck = false;
    row.Ready = ['False', 'Detached'];
    row.Progressing = ['False', 'Detached'];
  }
  // without a fresh look at the node (null), a power failure seen before still stands
  const prevFailure = (s.conditions ?? []).some((c) => c.type === 'Manageable' && c.reason === 'PowerFailure');
  if (powerCheck && (node ? node.fault === 'power failure' : prevFailure)) row.Manageable = ['False', 'PowerFailure'];
  let conds = (s.conditions ?? []) as Condition[];
  for (const [type, [status, reason]] of Object.entries(row)) {
    conds = setCondition(conds, { type, status, reason, message: '', observedGeneration: h.metadata.generation }, now);
  }
  const health = node?.health;
  const healthy: [Condition['status'], string] | null =
    health === 'OK'
      ? ['True', 'Healthy']
      : health === 'Warning'
        ? ['False', 'Warning']
        : health === 'Critical'
          ? ['False', 'CriticalError']
          : null;
  if (healthy)
    conds = setCondition(
      conds,
      { type: 'Healthy', status: healthy[0], reason: healthy[1], message: '', observedGeneration: h.metadata.generation },
      now,
    );
  else if (!conds.some((c) => c.type === 'Healthy')) {
    conds = setCondition(
      conds,
      { type: 'Healthy', status: 'Unknown', reason: 'Unknown', message: '', observedGeneration: h.metadata.generation },
      now,
    );
  }
  return conds;
}
