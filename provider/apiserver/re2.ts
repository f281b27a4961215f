// Regular expressions as Kubernetes runs them: RE2 (linear time, Go's syntax), through re2js, for
// OpenAPI `pattern` and CEL's matches()/find()/findAll(). JavaScript's own RegExp backtracks, so
// one hostile pattern such as ^(a+)+$ could hold the API server's only thread for minutes.
import { RE2JS } from 're2js';

const compiled = new Map<string, RE2JS>();

export class Re2SyntaxError extends Error {}

/** The pattern compiled (cached; at most 1000 kept), or Re2SyntaxError in RE2's words. */
export function re2(pattern: string): RE2JS {
  let re = compiled.get(pattern);
  if (!re) {
    try {
      re = RE2JS.compile(pattern);
    } catch (e) {
      throw new Re2SyntaxError((e as Error).message);
    }
    if (compiled.size >= 1000) compiled.delete(compiled.keys().next().value as string);
    compiled.set(pattern, re);
  }
  return re;
}

/** Whether `s` contains a match (Go's regexp.MatchString), in time linear in `s`. */
export function re2Test(pattern: string, s: string): boolean {
  return re2(pattern).matcher(s).find();
}

/** The first match, or '' (CEL's string.find). */
export function re2Find(pattern: string, s: string): string {
  const m = re2(pattern).matcher(s);
  return m.find() ? (m.group() ?? '') : '';
}

/** Every non-overlapping match (CEL's string.findAll). */
export function re2FindAll(pattern: string, s: string): string[] {
  const m = re2(pattern).matcher(s);
  const out: string[] = [];
  while (m.find()) out.push(m.group() ?? '');
  return out;
}

/**
 * An ajv regExp engine: OpenAPI `pattern` checked with RE2 (the flags ajv passes are ignored). The
 * pattern compiles on first use (a CRD with a pattern RE2 refuses is turned away before its schema
 * is used). ajv shares compiled patterns between schemas keyed by toString(), so each must name
 * its own pattern.
 */
export const ajvRe2 = Object.assign((pattern: string) => ({ test: (s: string) => re2Test(pattern, s), toString: () => `re2:${pattern}` }), {
  code: 'ferrite re2js',
});

/**
 * A CEL rule with its `matches` calls renamed to the RE2 version registered beside it (cel-js's own
 * `matches` uses RegExp and cannot be replaced). String literals are left as they are.
 */
export function withRe2Matches(rule: string): string {
  let out = '';
  let i = 0;
  while (i < rule.length) {
    const c = rule[i];
    if (c === '"' || c === "'") {
      // a string literal (triple-quoted or not; raw or not): copied whole
      const q = rule.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      let j = i + q.length;
      while (j < rule.length && !rule.startsWith(q, j)) j += rule[j] === '\\' && q.length === 1 ? 2 : 1;
      out += rule.slice(i, j + q.length);
      i = j + q.length;
      continue;
    }
    const m = /^matches\s*\(/.exec(rule.slice(i, i + 20));
    if (m && !/[A-Za-z0-9_]/.test(rule[i - 1] ?? '')) {
      out += 're2_matches(';
      i += m[0].length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}
