// BareMetalHost provisioning states (as the operator writes them) → colour variable and legend order.
export const STATES = [
  ['', 'none', 'not yet seen by the operator'],
  ['unmanaged', 'unmanaged'],
  ['registering', 'registering'],
  ['inspecting', 'inspecting'],
  ['match profile', 'preparing'],
  ['preparing', 'preparing'],
  ['available', 'available'],
  ['ready', 'available'],
  ['provisioning', 'provisioning'],
  ['provisioned', 'provisioned'],
  ['externally provisioned', 'externally'],
  ['servicing', 'servicing'],
  ['deprovisioning', 'deprovisioning'],
  ['powering off before delete', 'powering'],
  ['deleting', 'deleting'],
  ['detached', 'detached'],
];

const BY_STATE = new Map(STATES.map(([s, v]) => [s, v]));

/** The CSS colour of a state (an unknown state from a newer operator gets the neutral one). */
export const stateColour = (s) => `var(--st-${BY_STATE.get(s) ?? 'none'})`;
export const stateLabel = (s) => s || '(none)';
