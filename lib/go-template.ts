// Go text/template, the subset Cluster API's ClusterClass patches and name templates use: actions
// with `{{-`/`-}}` trimming and comments, field chains (`.a.b`, `$`, `$x.y`), pipelines, variables
// (`$x := …`), if/else if/else, range (with `$i, $v :=`), with, parenthesised pipelines, Go's
// builtins (and, or, not, eq, ne, lt, le, gt, ge, len, index, print, printf, println) and the
// hermetic sprig functions ClusterClasses reach for. Written here because no maintained npm package
// implements Go's template language; upstream's templates must render the same text here.

type Value = unknown;
type Fn = (...args: Value[]) => Value;

export class TemplateError extends Error {
  readonly reason = 'TemplateError';
}

// ---- lexing: text and actions ----

type Node =
  | { t: 'text'; text: string }
  | { t: 'action'; pipe: Pipe }
  | { t: 'if'; branches: Array<{ pipe: Pipe; body: Node[] }>; otherwise?: Node[] }
  | { t: 'range'; pipe: Pipe; vars: string[]; body: Node[]; otherwise?: Node[] }
  | { t: 'with'; pipe: Pipe; body: Node[]; otherwise?: Node[] };
interface Pipe {
  decl?: string[];
  assign?: boolean;
  cmds: Operand[][];
}
type Operand =
  | { k: 'field'; base: 'dot' | string; chain: string[] }
  | { k: 'lit'; v: Value }
  | { k: 'fn'; name: string }
  | { k: 'sub'; pipe: Pipe; chain: string[] };

function splitActions(src: string): Array<{ text: string } | { action: string }> {
  const out: Array<{ text: string } | { action: string }> = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) {
      if (text) out.push({ text });
      break;
    }
    const trimLeft = src.startsWith('{{- ', open) || src.startsWith('{{-\t', open) || src.startsWith('{{-\n', open);
    if (trimLeft) text = text.replace(/\s+$/, '');
    if (text) out.push({ text });
    let j = open + (trimLeft ? 3 : 2);
    // find the closing delimiter outside string literals
    let quote = '';
    for (; j < src.length; j++) {
      const c = src[j];
      if (quote) {
        if (c === '\\' && quote !== '`') j++;
        else if (c === quote) quote = '';
      } else if (c === '"' || c === '`' || c === "'") quote = c;
      else if (src.startsWith('}}', j)) break;
    }
    if (j >= src.length) throw new TemplateError('unclosed action');
    let body = src.slice(open + (trimLeft ? 3 : 2), j);
    trimNext = /\s-$/.test(body);
    if (trimNext) body = body.slice(0, -2);
    out.push({ action: body.trim() });
    i = j + 2;
  }
  return out;
}

// ---- parsing an action's words ----

function tokenize(s: string): string[] {
  const toks: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === '`' || c === "'") {
      let j = i + 1;
      while (j < s.length && s[j] !== c) j += s[j] === '\\' && c !== '`' ? 2 : 1;
      if (j >= s.length) throw new TemplateError(`unterminated quoted string in ${JSON.stringify(s)}`);
      toks.push(s.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if (c === '(' || c === ')' || c === '|' || c === ',') {
      toks.push(c);
      i++;
      continue;
    }
    if (s.startsWith(':=', i)) {
      toks.push(':=');
      i += 2;
      continue;
    }
    if (c === '=' && s[i + 1] !== '=') {
      toks.push('=');
      i++;
      continue;
    }
    let j = i;
    while (j < s.length && !/[\s()|,]/.test(s[j]) && !s.startsWith(':=', j)) j++;
    // a field chain may follow a closing parenthesis: `(pipe).a.b`
    toks.push(s.slice(i, j));
    i = j;
  }
  return toks;
}

class Parser {
  private i = 0;
  constructor(
    private readonly toks: string[],
    private readonly funcs: Record<string, Fn>,
  ) {}

  done(): boolean {
    return this.i >= this.toks.length;
  }

  pipe(stopAt?: string): Pipe {
    const p: Pipe = { cmds: [] };
    // declarations: `$x :=` or `$i, $v :=`
    const save = this.i;
    const vars: string[] = [];
    while (this.toks[this.i]?.startsWith('$')) {
      vars.push(this.toks[this.i]);
      this.i++;
      if (this.toks[this.i] === ',') this.i++;
      else break;
    }
    if (vars.length && (this.toks[this.i] === ':=' || this.toks[this.i] === '=')) {
      p.assign = this.toks[this.i] === '=';
      p.decl = vars;
      this.i++;
    } else this.i = save;
    let cmd: Operand[] = [];
    while (!this.done() && this.toks[this.i] !== stopAt) {
      const t = this.toks[this.i++];
      if (t === '|') {
        if (!cmd.length) throw new TemplateError('missing command before |');
        p.cmds.push(cmd);
        cmd = [];
        continue;
      }
      cmd.push(this.operand(t));
    }
    if (stopAt && this.toks[this.i] === stopAt) this.i++;
    else if (stopAt) throw new TemplateError('unclosed left paren');
    if (!cmd.length) throw new TemplateError('missing value for command');
    p.cmds.push(cmd);
    return p;
  }

  private operand(t: string): Operand {
    if (t === '(') {
      const pipe = this.pipe(')');
      const next = this.toks[this.i];
      let chain: string[] = [];
      if (next?.startsWith('.') && next.length > 1) {
        chain = next.slice(1).split('.');
        this.i++;
      }
      return { k: 'sub', pipe, chain };
    }
    if (t === ')') throw new TemplateError('unexpected right paren');
    if (t === '.') return { k: 'field', base: 'dot', chain: [] };
    if (t.startsWith('.')) return { k: 'field', base: 'dot', chain: t.slice(1).split('.') };
    if (t.startsWith('$')) {
      const [name, ...chain] = t.split('.');
      return { k: 'field', base: name, chain };
    }
    if (t.startsWith('"')) return { k: 'lit', v: JSON.parse(t.replace(/\\'/g, "'")) };
    if (t.startsWith('`')) return { k: 'lit', v: t.slice(1, -1) };
    if (t.startsWith("'")) return { k: 'lit', v: t.length === 3 ? t.charCodeAt(1) : t.slice(1, -1) };
    if (t === 'true' || t === 'false') return { k: 'lit', v: t === 'true' };
    if (t === 'nil') return { k: 'lit', v: null };
    if (/^[-+]?(\d|\.\d)/.test(t)) {
      const n = Number(t);
      if (Number.isNaN(n)) throw new TemplateError(`bad number syntax: "${t}"`);
      return { k: 'lit', v: n };
    }
    if (!Object.hasOwn(this.funcs, t)) throw new TemplateError(`function "${t}" not defined`);
    return { k: 'fn', name: t };
  }
}

function parse(src: string, funcs: Record<string, Fn>): Node[] {
  const parts = splitActions(src);
  let pos = 0;
  const parsePipe = (s: string) => {
    const p = new Parser(tokenize(s), funcs);
    return p.pipe();
  };
  // returns the nodes up to (not including) a closing keyword, and that keyword's action
  const list = (): { nodes: Node[]; end?: string } => {
    const nodes: Node[] = [];
    while (pos < parts.length) {
      const part = parts[pos++];
      if ('text' in part) {
        nodes.push({ t: 'text', text: part.text });
        continue;
      }
      const a = part.action;
      if (a.startsWith('/*')) {
        if (!a.endsWith('*/')) throw new TemplateError('unclosed comment');
        continue;
      }
      const word = a.split(/\s+/)[0];
      if (word === 'end' || word === 'else') return { nodes, end: a };
      if (word === 'if' || word === 'with') {
        const rest = a.slice(word.length).trim();
        if (!rest) throw new TemplateError(`missing value for ${word}`);
        if (word === 'if') nodes.push(ifChain(rest));
        else {
          const body = list();
          nodes.push({ t: 'with', pipe: parsePipe(rest), body: body.nodes, otherwise: elseBranch(body.end) });
        }
        continue;
      }
      if (word === 'range') {
        const rest = a.slice(5).trim();
        const p = parsePipe(rest);
        const body = list();
        nodes.push({ t: 'range', pipe: { cmds: p.cmds }, vars: p.decl ?? [], body: body.nodes, otherwise: elseBranch(body.end) });
        continue;
      }
      if (['define', 'template', 'block', 'break', 'continue'].includes(word))
        throw new TemplateError(`"${word}" is not supported in ClusterClass templates here`);
      nodes.push({ t: 'action', pipe: parsePipe(a) });
    }
    return { nodes };
  };
  // what follows `{{else}}` up to `{{end}}`; nothing when the block ended without one
  const elseBranch = (end: string | undefined): Node[] | undefined => {
    if (end === 'end') return undefined;
    if (end !== 'else') throw new TemplateError('unexpected EOF');
    const tail = list();
    if (tail.end !== 'end') throw new TemplateError('unexpected EOF');
    return tail.nodes;
  };
  const ifChain = (cond: string): Node => {
    const node: Node & { t: 'if' } = { t: 'if', branches: [] };
    let c = cond;
    for (;;) {
      const body = list();
      node.branches.push({ pipe: parsePipe(c), body: body.nodes });
      if (body.end === 'end') return node;
      if (body.end === 'else') {
        node.otherwise = elseBranch(body.end);
        return node;
      }
      if (body.end?.startsWith('else if ')) {
        c = body.end.slice(8).trim();
        continue;
      }
      throw new TemplateError('unexpected EOF');
    }
  };
  const top = list();
  if (top.end) throw new TemplateError(`unexpected {{${top.end}}}`);
  return top.nodes;
}

// ---- evaluation ----

export function truthy(v: Value): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

/** How Go's fmt prints a value with %v. */
export function goString(v: Value): string {
  if (v === null || v === undefined) return '<no value>';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object')
    return `map[${Object.keys(v as object)
      .sort()
      .map((k) => `${k}:${goString((v as Record<string, Value>)[k])}`)
      .join(' ')}]`;
  return String(v);
}

function printf(format: string, ...args: Value[]): string {
  let i = 0;
  return format.replace(/%([-+ 0#]*\d*(?:\.\d+)?)([vsdqftxX%])/g, (_m, flags: string, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    let s: string;
    switch (verb) {
      case 'q':
        s = JSON.stringify(goString(a));
        break;
      case 'd':
        s = String(Math.trunc(Number(a)));
        break;
      case 'f': {
        const prec = /\.(\d+)/.exec(flags);
        s = Number(a).toFixed(prec ? Number(prec[1]) : 6);
        break;
      }
      case 'x':
      case 'X':
        s = typeof a === 'number' ? a.toString(16) : Buffer.from(goString(a)).toString('hex');
        if (verb === 'X') s = s.toUpperCase();
        break;
      case 't':
        s = String(Boolean(a));
        break;
      default:
        s = goString(a);
    }
    const width = /(\d+)/.exec(flags.replace(/\..*/, ''));
    if (width) s = flags.includes('-') ? s.padEnd(Number(width[1])) : s.padStart(Number(width[1]), flags.startsWith('0') ? '0' : ' ');
    return s;
  });
}

function compare(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new TemplateError(`incompatible types for comparison: ${typeof a} and ${typeof b}`);
}

const equal = (a: Value, b: Value) => JSON.stringify(a) === JSON.stringify(b);

/** Go's builtins and sprig's hermetic functions that ClusterClass templates use. */
export const FUNCS: Record<string, Fn> = {
  and: (...a) => a.find((x) => !truthy(x)) ?? a[a.length - 1],
  or: (...a) => a.find((x) => truthy(x)) ?? a[a.length - 1],
  not: (a) => !truthy(a),
  eq: (a, ...rest) => rest.some((b) => equal(a, b)),
  ne: (a, b) => !equal(a, b),
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
  len: (a) => {
    if (typeof a === 'string' || Array.isArray(a)) return a.length;
    if (a && typeof a === 'object') return Object.keys(a).length;
    throw new TemplateError(`len of ${goString(a)}`);
  },
  index: (a, ...keys) => keys.reduce((cur: Value, k) => (cur == null ? undefined : (cur as Record<string, Value>)[String(k)]), a),
  print: (...a) => a.map(goString).join(''),
  println: (...a) => `${a.map(goString).join(' ')}\n`,
  printf: (f, ...a) => printf(String(f), ...a),
  // sprig (hermetic)
  default: (d, v) => (truthy(v) ? v : d),
  empty: (v) => !truthy(v),
  coalesce: (...a) => a.find(truthy),
  ternary: (a, b, c) => (truthy(c) ? a : b),
  quote: (...a) => a.map((x) => JSON.stringify(goString(x))).join(' '),
  squote: (...a) => a.map((x) => `'${goString(x)}'`).join(' '),
  upper: (s) => goString(s).toUpperCase(),
  lower: (s) => goString(s).toLowerCase(),
  title: (s) => goString(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  trim: (s) => goString(s).trim(),
  trimPrefix: (p, s) => (goString(s).startsWith(goString(p)) ? goString(s).slice(goString(p).length) : goString(s)),
  trimSuffix: (p, s) => (goString(s).endsWith(goString(p)) ? goString(s).slice(0, -goString(p).length || undefined) : goString(s)),
  replace: (o, n, s) => goString(s).split(goString(o)).join(goString(n)),
  contains: (sub, s) => goString(s).includes(goString(sub)),
  hasPrefix: (p, s) => goString(s).startsWith(goString(p)),
  hasSuffix: (p, s) => goString(s).endsWith(goString(p)),
  repeat: (n, s) => goString(s).repeat(Number(n)),
  indent: (n, s) =>
    goString(s)
      .split('\n')
      .map((l) => ' '.repeat(Number(n)) + l)
      .join('\n'),
  nindent: (n, s) =>
    `\n${goString(s)
      .split('\n')
      .map((l) => ' '.repeat(Number(n)) + l)
      .join('\n')}`,
  join: (sep, list) => (Array.isArray(list) ? list.map(goString).join(goString(sep)) : goString(list)),
  splitList: (sep, s) => goString(s).split(goString(sep)),
  list: (...a) => a,
  dict: (...a) => {
    const o: Record<string, Value> = {};
    for (let i = 0; i + 1 < a.length; i += 2) o[goString(a[i])] = a[i + 1];
    return o;
  },
  has: (needle, list) => Array.isArray(list) && list.some((x) => equal(x, needle)),
  first: (l) => (Array.isArray(l) ? l[0] : undefined),
  last: (l) => (Array.isArray(l) ? l[l.length - 1] : undefined),
  keys: (...maps) => maps.flatMap((m) => Object.keys((m ?? {}) as object)),
  toString: (v: Value) => goString(v),
  toJson: (v) => JSON.stringify(v ?? null),
  int: (v) => Math.trunc(Number(v)) || 0,
  atoi: (v) => Number.parseInt(goString(v), 10) || 0,
  add: (...a) => a.reduce((s: number, x) => s + Number(x), 0),
  sub: (a, b) => Number(a) - Number(b),
  mul: (...a) => a.reduce((s: number, x) => s * Number(x), 1),
  div: (a, b) => Math.trunc(Number(a) / Number(b)),
  mod: (a, b) => Number(a) % Number(b),
  b64enc: (s) => Buffer.from(goString(s)).toString('base64'),
  b64dec: (s) => Buffer.from(goString(s), 'base64').toString(),
  kindIs: (kind, v) => kindOf(v) === kind,
};

function kindOf(v: Value): string {
  if (v === null || v === undefined) return 'invalid';
  if (Array.isArray(v)) return 'slice';
  if (typeof v === 'object') return 'map';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  return 'string';
}

export interface TemplateOptions {
  /** Go's Option("missingkey=error"): a missing map key fails instead of printing "<no value>" */
  missingKeyError?: boolean;
}

export class GoTemplate {
  private readonly nodes: Node[];

  constructor(
    readonly source: string,
    private readonly opts: TemplateOptions = {},
  ) {
    this.nodes = parse(source, FUNCS);
  }

  execute(data: Value): string {
    const out: string[] = [];
    const scopes: Array<Map<string, Value>> = [new Map([['$', data]])];
    this.run(this.nodes, data, scopes, out);
    return out.join('');
  }

  private lookup(scopes: Array<Map<string, Value>>, name: string): Value {
    for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i].has(name)) return scopes[i].get(name);
    throw new TemplateError(`undefined variable: ${name}`);
  }

  private field(base: Value, chain: string[]): Value {
    let cur = base;
    for (const k of chain) {
      if (cur === null || cur === undefined) {
        if (this.opts.missingKeyError) throw new TemplateError(`nil pointer evaluating .${k}`);
        return undefined;
      }
      if (typeof cur !== 'object' || Array.isArray(cur)) throw new TemplateError(`can't evaluate field ${k} in type ${kindOf(cur)}`);
      if (!(k in (cur as object))) {
        if (this.opts.missingKeyError) throw new TemplateError(`map has no entry for key "${k}"`);
        return undefined;
      }
      cur = (cur as Record<string, Value>)[k];
    }
    return cur;
  }

  private operand(o: Operand, dot: Value, scopes: Array<Map<string, Value>>): Value {
    switch (o.k) {
      case 'lit':
        return o.v;
      case 'field':
        return this.field(o.base === 'dot' ? dot : this.lookup(scopes, o.base), o.chain);
      case 'sub':
        return this.field(this.pipe(o.pipe, dot, scopes), o.chain);
      case 'fn':
        return FUNCS[o.name]();
    }
  }

  private pipe(p: Pipe, dot: Value, scopes: Array<Map<string, Value>>): Value {
    let prev: Value;
    p.cmds.forEach((cmd, i) => {
      const [head, ...args] = cmd;
      const vals = args.map((a) => this.operand(a, dot, scopes));
      if (i > 0) vals.push(prev);
      if (head.k === 'fn') prev = FUNCS[head.name](...vals);
      else if (vals.length) throw new TemplateError(`can't give argument to non-function ${JSON.stringify(head)}`);
      else prev = this.operand(head, dot, scopes);
    });
    if (p.decl) {
      const scope = scopes[scopes.length - 1];
      if (p.assign) {
        const owner = [...scopes].reverse().find((s) => s.has(p.decl?.[0] ?? ''));
        if (!owner) throw new TemplateError(`undefined variable: ${p.decl[0]}`);
        owner.set(p.decl[0], prev);
      } else scope.set(p.decl[0], prev);
    }
    return prev;
  }

  private run(nodes: Node[], dot: Value, scopes: Array<Map<string, Value>>, out: string[]): void {
    for (const n of nodes) {
      switch (n.t) {
        case 'text':
          out.push(n.text);
          break;
        case 'action': {
          const v = this.pipe(n.pipe, dot, scopes);
          if (!n.pipe.decl) out.push(goString(v));
          break;
        }
        case 'if': {
          const hit = n.branches.find((b) => truthy(this.pipe(b.pipe, dot, scopes)));
          const body = hit ? hit.body : n.otherwise;
          if (body) this.scoped(body, dot, scopes, out);
          break;
        }
        case 'with': {
          const v = this.pipe(n.pipe, dot, scopes);
          if (truthy(v)) this.scoped(n.body, v, scopes, out);
          else if (n.otherwise) this.scoped(n.otherwise, dot, scopes, out);
          break;
        }
        case 'range': {
          const v = this.pipe(n.pipe, dot, scopes);
          const entries: Array<[Value, Value]> = Array.isArray(v)
            ? v.map((x, i) => [i, x])
            : v && typeof v === 'object'
              ? Object.keys(v)
                  .sort()
                  .map((k) => [k, (v as Record<string, Value>)[k]])
              : typeof v === 'number'
                ? Array.from({ length: v }, (_x, i) => [i, i])
                : [];
          if (!entries.length && n.otherwise) this.scoped(n.otherwise, dot, scopes, out);
          for (const [k, x] of entries) {
            const scope = new Map<string, Value>();
            if (n.vars.length === 1) scope.set(n.vars[0], x);
            if (n.vars.length === 2) {
              scope.set(n.vars[0], k);
              scope.set(n.vars[1], x);
            }
            this.run(n.body, x, [...scopes, scope], out);
          }
          break;
        }
      }
    }
  }

  private scoped(nodes: Node[], dot: Value, scopes: Array<Map<string, Value>>, out: string[]): void {
    this.run(nodes, dot, [...scopes, new Map()], out);
  }
}

/** Parses (throwing TemplateError as Go's Parse would) without rendering. */
export function checkTemplate(src: string): string | undefined {
  try {
    new GoTemplate(src);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

export function renderTemplate(src: string, data: Value, opts?: TemplateOptions): string {
  return new GoTemplate(src, opts).execute(data);
}
