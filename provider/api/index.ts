// Every kind Ferrite serves as a CRD; `ferrite crds generate` writes crds/ from this list.
import type { KindDefinition } from './crdgen.js';
import { BareMetalHostKind } from './metal3.io/v1alpha1/baremetalhost.js';

export const kinds: KindDefinition[] = [BareMetalHostKind];
