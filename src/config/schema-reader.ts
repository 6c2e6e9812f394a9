/**
 * The reader every section of the schema uses: typed reads of the raw object that record a
 * problem (key path and message) instead of throwing, so that one run reports everything.
 */
import type { ConfigProblem } from '../errors.js';
import { suggestKey } from './schema-suggest.js';

type Obj = Record<string, unknown>;

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string': return 'a string';
    case 'number': return Number.isInteger(v) ? 'an integer' : 'a number';
    case 'boolean': return 'a boolean';
    case 'object': return 'an object';
    default: return typeof v;
  }
}

/** A value as it may appear in a message: strings quoted and cut at 80, others by kind. */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return kind(v);
}

function isPlainObject(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const at = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);
/** The value of an own key; inherited ones (`__proto__`, `constructor`) are never read. */
export const own = (o: Obj, key: string): unknown => (Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined);

/** Collects problems while reading the raw object. */
export class Reader {
  readonly problems: ConfigProblem[] = [];

  add(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  /** An object with only `keys`; unknown keys are problems (with a suggestion). */
  object(v: unknown, path: string, keys: readonly string[]): Obj | null {
    if (!isPlainObject(v)) {
      this.add(path || '(root)', `must be an object (a mapping of keys), got ${kind(v)}`);
      return null;
    }
    for (const key of Object.keys(v)) {
      if (keys.includes(key)) continue;
      const suggestion = suggestKey(key, keys);
      this.add(at(path, key), suggestion ? `unknown key, did you mean ${suggestion}?` : 'unknown key');
    }
    return v;
  }

  required(o: Obj | null, key: string, path: string): unknown {
    if (o === null) return undefined;
    const v = own(o, key);
    if (v === undefined) this.add(at(path, key), 'is required');
    return v;
  }

  string(v: unknown, path: string): string | null {
    if (typeof v !== 'string') {
      this.add(path, `must be a string, got ${kind(v)}`);
      return null;
    }
    return v;
  }

  /** A file path: a non-empty string without NUL. */
  filePath(v: unknown, path: string): string | null {
    const s = this.string(v, path);
    if (s === null) return null;
    if (s.trim() === '' || s.includes('\0')) {
      this.add(path, 'must be a file path (a non-empty string)');
      return null;
    }
    return s;
  }

  integer(v: unknown, path: string, min: number, max: number, why = ''): number | null {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.add(path, `must be an integer from ${min} to ${max}${why}, got ${show(v)}`);
      return null;
    }
    return v;
  }

  boolean(v: unknown, path: string): boolean | null {
    if (typeof v !== 'boolean') {
      this.add(path, `must be true or false, got ${show(v)}`);
      return null;
    }
    return v;
  }

  oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[]): T | null {
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.add(path, `must be one of ${allowed.join(', ')}, got ${show(v)}`);
      return null;
    }
    return v as T;
  }

  list(v: unknown, path: string): unknown[] | null {
    if (!Array.isArray(v)) {
      this.add(path, `must be a list, got ${kind(v)}`);
      return null;
    }
    return v;
  }

  /** The value of an optional key, or `fallback` when absent. */
  optional<T>(o: Obj | null, key: string, path: string, fallback: T, read: (v: unknown, p: string) => T | null): T {
    if (o === null) return fallback;
    const v = own(o, key);
    if (v === undefined) return fallback;
    return read(v, at(path, key)) ?? fallback;
  }
}

/** Calls `each` for every string of a list, in order; non-strings are problems at their index. */
export function eachString(r: Reader, v: unknown, path: string, each: (s: string, itemPath: string) => void): void {
  const list = r.list(v, path);
  list?.forEach((item, i) => {
    const s = r.string(item, `${path}[${i}]`);
    if (s !== null) each(s, `${path}[${i}]`);
  });
}
