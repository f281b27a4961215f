// The release's component sets, as objects: for each set (Ferrite's BMO + Ironic, CAPM3 + IPAM,
// Cluster API core, kubeadm bootstrap, kubeadm control plane) its Namespace, CRDs, ServiceAccount,
// RBAC (from provider/rbac.ts), Services, Deployment(s) and ValidatingWebhookConfiguration — each
// replaceable by its upstream counterpart alone. Images and settings are clusterctl variables
// (`${VAR:=default}`), so `clusterctl init` and `kubectl apply` (after envsubst) both work.
import { crdFor } from '../api/crdgen.js';
import { kinds } from '../api/index.js';
import {
  COMPONENTS,
  type Component,
  CRD_GROUPS,
  conversionCrdNames,
  leaseName,
  webhookConfigurationNames,
  webhookConfigurations,
} from '../controllers.js';
import type { KubeObject } from '../kube/client.js';
import { COMMON_RULES, LEADER_ELECTION_RULES, METRICS_READER_RULES, type PolicyRule, RULES, webhookCertRules } from '../rbac.js';

export interface ComponentSet {
  /** short name: names every object (`ferrite-<name>-…`) */
  name: string;
  title: string;
  namespace: string;
  components: Component[];
  /** clusterctl provider type and name, for the local repository layout (none: not a clusterctl provider) */
  clusterctl?: {
    type: 'CoreProvider' | 'BootstrapProvider' | 'ControlPlaneProvider' | 'InfrastructureProvider';
    name: string;
    file: string;
  };
  /** the file outside clusterctl's layout */
  file: string;
  ironic?: boolean;
}

export const SETS: ComponentSet[] = [
  {
    name: 'bmo',
    title: 'Bare Metal Operator and Ironic',
    namespace: 'ferrite-bmo-system',
    components: ['bmo'],
    file: 'bmo-components.yaml',
    ironic: true,
  },
  {
    name: 'capm3',
    title: 'Cluster API Provider Metal3 and Metal3 IPAM',
    namespace: 'ferrite-capm3-system',
    components: ['capm3', 'ipam'],
    clusterctl: { type: 'InfrastructureProvider', name: 'infrastructure-ferrite', file: 'infrastructure-components.yaml' },
    file: 'infrastructure-components.yaml',
  },
  {
    name: 'capi',
    title: 'Cluster API core',
    namespace: 'ferrite-capi-system',
    components: ['capi'],
    clusterctl: { type: 'CoreProvider', name: 'cluster-api', file: 'core-components.yaml' },
    file: 'core-components.yaml',
  },
  {
    name: 'kubeadm-bootstrap',
    title: 'Cluster API kubeadm bootstrap provider',
    namespace: 'ferrite-kubeadm-bootstrap-system',
    components: ['kubeadm-bootstrap'],
    clusterctl: { type: 'BootstrapProvider', name: 'bootstrap-ferrite-kubeadm', file: 'bootstrap-components.yaml' },
    file: 'bootstrap-components.yaml',
  },
  {
    name: 'kubeadm-control-plane',
    title: 'Cluster API kubeadm control plane provider',
    namespace: 'ferrite-kubeadm-control-plane-system',
    components: ['kubeadm-control-plane'],
    clusterctl: { type: 'ControlPlaneProvider', name: 'control-plane-ferrite-kubeadm', file: 'control-plane-components.yaml' },
    file: 'control-plane-components.yaml',
  },
];

export const IMAGE_VAR = '${FERRITE_IMAGE:=localhost/ferrite/controllers:v0.1.0}';
export const IRONIC_IMAGE_VAR = '${FERRITE_IRONIC_IMAGE:=localhost/ferrite/ironic:v0.1.0}';
const WEBHOOK_PORT = 9443;
const METRICS_PORT = 8443;
const PROBE_PORT = 9440;

export const prefix = (s: ComponentSet) => `ferrite-${s.name}`;
export const webhookService = (s: ComponentSet) => `${prefix(s)}-webhook-service`;
export const webhookSecret = (s: ComponentSet) => `${prefix(s)}-webhook-server-cert`;
export const serviceAccount = (s: ComponentSet) => `${prefix(s)}-controller-manager`;

/** The set's CRDs, converting through the set's own webhook Service. */
export function setCrds(s: ComponentSet): KubeObject[] {
  return kinds
    .filter((k) => s.components.some((c) => CRD_GROUPS[c].includes(k.group)))
    .map((k) => {
      const crd = crdFor(k) as KubeObject & { spec: { conversion?: { webhook: { clientConfig: Record<string, unknown> } } } };
      if (crd.spec.conversion) {
        crd.spec.conversion.webhook.clientConfig = {
          service: { namespace: s.namespace, name: webhookService(s), path: '/convert', port: 443 },
        };
      }
      return crd;
    });
}

/** Names of the set's CRDs that convert by webhook (their caBundle is the controllers' to keep). */
export const conversionCrds = (s: ComponentSet) => conversionCrdNames(s.components);

export const setWebhookConfigurations = (s: ComponentSet) =>
  webhookConfigurations(s.components, (d) => ({ service: { namespace: s.namespace, name: webhookService(s), path: d.path, port: 443 } }));

export function hasWebhookServer(s: ComponentSet): boolean {
  return webhookConfigurationNames(s.components).length > 0 || conversionCrds(s).length > 0;
}

/** The ClusterRole rules of a set's manager: what its components do, and keeping its webhook certificate. */
export function managerRules(s: ComponentSet): PolicyRule[] {
  const rules = [...COMMON_RULES, ...s.components.flatMap((c) => RULES[c])];
  if (hasWebhookServer(s)) {
    rules.push(...webhookCertRules(webhookConfigurationNames(s.components), conversionCrds(s)));
  }
  return rules;
}

const labels = (s: ComponentSet, component = 'controller-manager') => ({
  'app.kubernetes.io/name': prefix(s),
  'app.kubernetes.io/component': component,
  'app.kubernetes.io/part-of': 'ferrite',
});

const SECURITY = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
};

function managerDeployment(s: ComponentSet): KubeObject {
  const args = [
    'controllers',
    `--controllers=${s.components.join(',')}`,
    '--leader-elect',
    `--leader-election-namespace=${s.namespace}`,
    `--metrics-bind-address=:${METRICS_PORT}`,
    '--metrics-secure',
    `--health-probe-bind-address=:${PROBE_PORT}`,
  ];
  if (hasWebhookServer(s)) {
    args.push(
      '--webhook-host=0.0.0.0',
      `--webhook-port=${WEBHOOK_PORT}`,
      `--webhook-cert-secret=${s.namespace}/${webhookSecret(s)}`,
      `--webhook-service=${s.namespace}/${webhookService(s)}`,
    );
  }
  const env: Array<Record<string, unknown>> = [{ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }];
  const volumes: Array<Record<string, unknown>> = [{ name: 'tmp', emptyDir: {} }];
  const mounts: Array<Record<string, unknown>> = [{ name: 'tmp', mountPath: '/tmp' }];
  if (s.ironic) {
    // Ferrite's Ironic serves the agent where metal3's Ironic image does
    args.push(
      '--deploy-kernel-url=https://${PROVISIONING_IP}:6180/images/ironic-python-agent.kernel',
      '--deploy-ramdisk-url=https://${PROVISIONING_IP}:6180/images/ironic-python-agent.initramfs',
    );
    env.push(
      { name: 'IRONIC_ENDPOINT', value: 'https://${PROVISIONING_IP}:6385' },
      { name: 'IRONIC_CACERT_FILE', value: '/opt/metal3/certs/ca/tls.crt' },
      { name: 'METAL3_AUTH_ROOT_DIR', value: '/opt/metal3/auth' },
    );
    mounts.push(
      { name: 'ironic-ca', mountPath: '/opt/metal3/certs/ca', readOnly: true },
      { name: 'ironic-credentials', mountPath: '/opt/metal3/auth/ironic', readOnly: true },
    );
    volumes.push(
      { name: 'ironic-ca', secret: { secretName: 'ferrite-ironic-cert', items: [{ key: 'ca.crt', path: 'tls.crt' }] } },
      { name: 'ironic-credentials', secret: { secretName: 'ferrite-ironic-credentials' } },
    );
  }
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `${prefix(s)}-controller-manager`, namespace: s.namespace, labels: labels(s) },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels(s) },
      template: {
        metadata: { labels: labels(s) },
        spec: {
          serviceAccountName: serviceAccount(s),
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          terminationGracePeriodSeconds: 10,
          containers: [
            {
              name: 'manager',
              image: IMAGE_VAR,
              imagePullPolicy: 'IfNotPresent',
              args,
              env,
              ports: [
                ...(hasWebhookServer(s) ? [{ name: 'webhook-server', containerPort: WEBHOOK_PORT, protocol: 'TCP' }] : []),
                { name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' },
                { name: 'healthz', containerPort: PROBE_PORT, protocol: 'TCP' },
              ],
              livenessProbe: { httpGet: { path: '/healthz', port: 'healthz' }, initialDelaySeconds: 15, periodSeconds: 20 },
              readinessProbe: { httpGet: { path: '/readyz', port: 'healthz' }, initialDelaySeconds: 5, periodSeconds: 10 },
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '1Gi' } },
              securityContext: SECURITY,
              volumeMounts: mounts,
            },
          ],
          volumes,
          tolerations: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }],
        },
      },
    },
  };
}

/** Ironic for the BMO set: API, conductor and HTTP boot root over HTTPS with basic auth. */
function ironicObjects(s: ComponentSet): KubeObject[] {
  const l = labels(s, 'ironic');
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'ferrite-bmo-ironic', namespace: s.namespace, labels: l },
      spec: {
        selector: l,
        ports: [
          { name: 'api', port: 6385, targetPort: 'api' },
          { name: 'httpboot', port: 6180, targetPort: 'httpboot' },
        ],
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'ferrite-bmo-ironic', namespace: s.namespace, labels: l },
      spec: {
        replicas: 1,
        // one conductor owns the database: never two at once
        strategy: { type: 'Recreate' },
        selector: { matchLabels: l },
        template: {
          metadata: { labels: l },
          spec: {
            // as metal3's Ironic: booted hosts and BMCs reach it on the provisioning network
            hostNetwork: true,
            securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
            automountServiceAccountToken: false,
            containers: [
              {
                name: 'ironic',
                image: IRONIC_IMAGE_VAR,
                imagePullPolicy: 'IfNotPresent',
                args: [
                  'ironic',
                  '--data-dir=/var/lib/ironic',
                  '--host=${IRONIC_BIND_IP:=0.0.0.0}',
                  '--port=6385',
                  '--http-port=6180',
                  '--public-url=https://${PROVISIONING_IP}:6385',
                  '--http-url=https://${PROVISIONING_IP}:6180',
                  '--tls-cert=/certs/ironic/tls.crt',
                  '--tls-key=/certs/ironic/tls.key',
                  '--http-tls',
                  '--htpasswd=/auth/htpasswd',
                  '--webserver-verify-ca=/certs/ironic/ca.crt',
                  '--metrics',
                ],
                ports: [
                  { name: 'api', containerPort: 6385, protocol: 'TCP' },
                  { name: 'httpboot', containerPort: 6180, protocol: 'TCP' },
                ],
                readinessProbe: { tcpSocket: { port: 6385 }, periodSeconds: 10 },
                livenessProbe: { tcpSocket: { port: 6385 }, initialDelaySeconds: 30, periodSeconds: 30 },
                resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '2Gi' } },
                securityContext: SECURITY,
                volumeMounts: [
                  { name: 'data', mountPath: '/var/lib/ironic' },
                  { name: 'cert', mountPath: '/certs/ironic', readOnly: true },
                  { name: 'htpasswd', mountPath: '/auth', readOnly: true },
                ],
              },
            ],
            volumes: [
              // as metal3's Ironic, the database is per pod: BMO registers hosts again after a restart
              { name: 'data', emptyDir: {} },
              { name: 'cert', secret: { secretName: 'ferrite-ironic-cert' } },
              { name: 'htpasswd', secret: { secretName: 'ferrite-ironic-htpasswd' } },
            ],
          },
        },
      },
    },
  ];
}

/** Every object of a set, grouped by the config/ folder that holds it. */
export function setObjects(s: ComponentSet): Record<'namespace' | 'crd' | 'rbac' | 'manager' | 'webhook' | 'ironic', KubeObject[]> {
  const p = prefix(s);
  const sa = serviceAccount(s);
  const subject = [{ kind: 'ServiceAccount', name: sa, namespace: s.namespace }];
  const webhook: KubeObject[] = [];
  if (hasWebhookServer(s)) {
    webhook.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: webhookService(s), namespace: s.namespace, labels: labels(s) },
      spec: { selector: labels(s), ports: [{ port: 443, targetPort: 'webhook-server', protocol: 'TCP' }] },
    });
    webhook.push(...setWebhookConfigurations(s));
  }
  return {
    namespace: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: s.namespace, labels: { 'app.kubernetes.io/part-of': 'ferrite' } } },
    ],
    crd: setCrds(s),
    rbac: [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: s.namespace } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `${p}-manager-role` }, rules: managerRules(s) },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: `${p}-manager-rolebinding` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${p}-manager-role` },
        subjects: subject,
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: `${p}-leader-election-role`, namespace: s.namespace },
        rules: LEADER_ELECTION_RULES,
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: `${p}-leader-election-rolebinding`, namespace: s.namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${p}-leader-election-role` },
        subjects: subject,
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: `${p}-metrics-reader` },
        rules: METRICS_READER_RULES,
      },
    ],
    manager: [
      managerDeployment(s),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `${p}-metrics`, namespace: s.namespace, labels: labels(s) },
        spec: { selector: labels(s), ports: [{ name: 'https', port: METRICS_PORT, targetPort: 'metrics', protocol: 'TCP' }] },
      },
    ],
    webhook,
    ironic: s.ironic ? ironicObjects(s) : [],
  };
}

/** The lease each set's replicas elect on (documented in docs/deploy.md). */
export const setLease = (s: ComponentSet) => leaseName(COMPONENTS.filter((c) => s.components.includes(c)));
