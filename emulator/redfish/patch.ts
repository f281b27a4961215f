// PATCH bodies checked against what a resource lets clients write. All-or-nothing: any unknown,
// read-only or invalid property fails the whole request with one ExtendedInfo entry per problem.
import { type ExtendedInfo, RedfishError } from './errors.js';

export type Validator = (v: unknown, prop: string) => unknown;
export interface WriteSpec {
  [prop: string]: Validator | WriteSpec;
}

class Invalid {
  constructor(readonly info: ExtendedInfo) {}
}

export function enumOf(values: readonly string[]): Validator {
  return (v, prop) => {
    if (typeof v !== 'string') throw new Invalid({ messageId: 'PropertyValueTypeError', args: [JSON.stringify(v), prop], property: prop });
    if (!values.includes(v)) throw new Invalid({ messageId: 'PropertyValueNotInList', args: [v, prop], property: prop });
    return v;
  };
}

export const bool: Validator = (v, prop) => {
  if (typeof v !== 'boolean') throw new Invalid({ messageId: 'PropertyValueTypeError', args: [JSON.stringify(v), prop], property: prop });
  return v;
};

export const str: Validator = (v, prop) => {
  if (typeof v !== 'string') throw new Invalid({ messageId: 'PropertyValueTypeError', args: [JSON.stringify(v), prop], property: prop });
  return v;
};

export const nullableUri: Validator = (v, prop) => {
  if (v === null || v === '') return null;
  if (typeof v !== 'string') throw new Invalid({ messageId: 'PropertyValueTypeError', args: [JSON.stringify(v), prop], property: prop });
  try {
    new URL(v);
  } catch {
    throw new Invalid({ messageId: 'PropertyValueFormatError', args: [v, prop], property: prop });
  }
  return v;
};

export function int(min: number, max: number): Validator {
  return (v, prop) => {
    if (typeof v !== 'number' || !Number.isInteger(v))
      throw new Invalid({ messageId: 'PropertyValueTypeError', args: [JSON.stringify(v), prop], property: prop });
    if (v < min || v > max) throw new Invalid({ messageId: 'PropertyValueNotInList', args: [String(v), prop], property: prop });
    return v;
  };
}

export function arrayOf(item: Validator): Validator {
  return (v, prop) => {
    if (!Array.isArray(v)) throw new Invalid({ messageId: 'PropertyValueTypeError', args: [JSON.stringify(v), prop], property: prop });
    return v.map((x, i) => item(x, `${prop}/${i}`));
  };
}

/** Any JSON object (free-form maps such as BIOS Attributes; the handler checks the keys). */
export const object: Validator = (v, prop) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new Invalid({ messageId: 'PropertyValueTypeError', args: [JSON.stringify(v), prop], property: prop });
  return v;
};

/** Validates `body`; returns the normalized changes (nested like the spec). */
export function checkPatch(body: unknown, spec: WriteSpec, current: Record<string, unknown>): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RedfishError(400, { messageId: 'MalformedJSON' });
  }
  const problems: ExtendedInfo[] = [];
  const out = walk(body as Record<string, unknown>, spec, current, '', problems);
  if (problems.length) throw new RedfishError(400, problems);
  if (Object.keys(out).length === 0) throw new RedfishError(400, { messageId: 'NoOperation' });
  return out;
}

function walk(
  body: Record<string, unknown>,
  spec: WriteSpec,
  current: Record<string, unknown> | undefined,
  prefix: string,
  problems: ExtendedInfo[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    // annotations (@odata.*, @Redfish.*) describe the payload; they are not settable properties
    if (k.startsWith('@') || k.includes('@')) continue;
    const path = prefix ? `${prefix}/${k}` : k;
    // own keys only: "constructor" or "hasOwnProperty" in a body are unknown properties, not Object's
    const s = Object.hasOwn(spec, k) ? spec[k] : undefined;
    if (s === undefined) {
      const exists = current !== undefined && Object.hasOwn(current, k);
      problems.push({ messageId: exists ? 'PropertyNotWritable' : 'PropertyUnknown', args: [path], property: path });
      continue;
    }
    if (typeof s === 'function') {
      try {
        out[k] = s(v, path);
      } catch (e) {
        if (e instanceof Invalid) problems.push(e.info);
        else throw e;
      }
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      problems.push({ messageId: 'PropertyValueTypeError', args: [JSON.stringify(v), path], property: path });
      continue;
    }
    const sub = walk(
      v as Record<string, unknown>,
      s,
      (current && Object.hasOwn(current, k) ? current[k] : undefined) as Record<string, unknown> | undefined,
      path,
      problems,
    );
    if (Object.keys(sub).length) out[k] = sub;
  }
  return out;
}
