// Kubernetes' name and label rules with apimachinery's wording (k8s.io/apimachinery/pkg/util/
// validation): label keys are qualified names, label values may be empty; each returns the list
// of problems, empty when the value is fine. Lengths read as kube-apiserver v1.37 words them: an
// object name "must be no more than 253 characters", a label part "no more than 63 bytes".

export const DNS1123_SUBDOMAIN_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const LABEL_VALUE = new RegExp(`^(${QUALIFIED_NAME_FMT})?$`);

const regexError = (msg: string, fmt: string, ...examples: string[]) =>
  `${msg} (e.g. ${examples.map((e) => `'${e}'`).join(',  or ')}, regex used for validation is '${fmt}')`;

export function dns1123SubdomainProblems(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(value))
    errs.push(
      regexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        DNS1123_SUBDOMAIN_FMT,
        'example.com',
      ),
    );
  return errs;
}

const QNAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/**
 * A label key or annotation key: an optional DNS subdomain prefix and '/', then a name of at most
 * 63 bytes. Label keys call themselves "a valid label key" where other qualified names say "a
 * qualified name" (kube-apiserver v1.37's wording).
 */
export function qualifiedNameProblems(value: string, what: 'label key' | 'qualified name' = 'qualified name'): string[] {
  const parts = value.split('/');
  const errs: string[] = [];
  let name: string;
  if (parts.length === 1) name = parts[0];
  else if (parts.length === 2) {
    const prefix = parts[0];
    name = parts[1];
    if (!prefix) errs.push('prefix part must be non-empty');
    else errs.push(...dns1123SubdomainProblems(prefix).map((m) => `prefix part ${m}`));
  } else
    return [
      `${what === 'label key' ? 'a valid label key' : 'a qualified name'} ${regexError(QNAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  if (!name) errs.push('name part must be non-empty');
  else if (Buffer.byteLength(name) > 63) errs.push('name part must be no more than 63 bytes');
  if (!QUALIFIED_NAME.test(name)) errs.push(`name part ${regexError(QNAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

export function labelValueProblems(value: string): string[] {
  const errs: string[] = [];
  if (Buffer.byteLength(value) > 63) errs.push('must be no more than 63 bytes');
  if (!LABEL_VALUE.test(value))
    errs.push(
      regexError(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        `(${QUALIFIED_NAME_FMT})?`,
        'MyValue',
        'my_value',
        '12345',
      ),
    );
  return errs;
}
