// Differences between the embedded API server and kube-apiserver that are kept on purpose, each
// with its one-line reason (the README's "Differences from kube-apiserver" lists the same ids).
// A case id pattern: `*` stands for the kind part.
export const KNOWN_DIFFERENCES: Record<string, string> = {
  '*/patch-json-proto':
    'a JSON patch that writes a `__proto__` key is refused as a bad patch (422) before label validation: the key would reach Object.prototype in JavaScript',
  'schema/deep-5000':
    'a body nested deeper than 1000 levels is refused (400); kube-apiserver takes up to 10000, which recursive walks in JavaScript cannot',
};

export function knownReason(id: string): string | undefined {
  for (const [pattern, reason] of Object.entries(KNOWN_DIFFERENCES)) {
    const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]+')}$`);
    if (re.test(id)) return reason;
  }
  return undefined;
}
