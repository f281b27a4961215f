// cloud-init's jinja step for `## template: jinja` user data, as far as Cluster API's bootstrap data
// uses it: variable lookups such as `{{ ds.meta_data.name }}` or `{{ v1.local_hostname }}`. A
// variable that does not exist renders as cloud-init's marker CI_MISSING_JINJA_VAR/<name>.
// (Written here rather than with a template library: only lookups occur, and cloud-init's missing
// variable marker is its own.)

type Obj = Record<string, unknown>;

export const JINJA_HEADER = /^## template: *jinja[ \t]*\r?\n/;

function lookup(vars: Obj, path: string): unknown {
  let cur: unknown = vars;
  for (const part of path.match(/[^.[\]'"]+/g) ?? []) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Obj)[part];
  }
  return cur;
}

/** Renders `{{ expr }}` lookups (with an optional `| default('x')`); other text is left as it is. */
export function renderJinja(text: string, vars: Obj): string {
  return text.replace(
    /\{\{\s*([A-Za-z_][\w.[\]'"-]*)\s*(?:\|\s*default\(\s*(['"])(.*?)\2\s*\))?\s*\}\}/g,
    (_, expr: string, _q, dflt?: string) => {
      const v = lookup(vars, expr);
      if (v === undefined || v === null) return dflt ?? `CI_MISSING_JINJA_VAR/${expr}`;
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
    },
  );
}

/** The variables cloud-init offers a template: ds.meta_data, and the standardized v1 keys. */
export function jinjaVars(metaData: Obj): Obj {
  const host = metaData['local-hostname'] ?? metaData.local_hostname ?? metaData.hostname ?? metaData.name;
  return {
    ds: { meta_data: metaData },
    v1: { local_hostname: host, instance_id: metaData.uuid ?? metaData['instance-id'], cloud_name: 'openstack', platform: 'openstack' },
  };
}
