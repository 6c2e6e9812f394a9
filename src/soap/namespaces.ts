/**
 * Namespaces in XML 1.0 for soap/scanner.ts: each element's in-scope declarations as a map that is
 * never changed once built (an element that declares nothing shares its parent's), prefixes
 * resolved, and the namespace constraints checked. A violation does not stop the scan: the first
 * one is kept in `error` and reported once the rest of the document is known to be well-formed
 * and within limits, the order of the parser the scanner replaced (it resolved names after its
 * pre-scan), so that both give a document the same error code.
 */
import { NS_OUTBOUND, NS_SOAP11, NS_SOAP12, NS_SOBJECT, NS_XML, NS_XMLNS, NS_XSD, NS_XSI } from '../constants.js';
import type { XmlAttribute } from './types.js';

/** Namespaces in XML 1.0 section 3: the xml prefix is bound from the start. */
export const ROOT_SCOPE: ReadonlyMap<string, string> = new Map([['xml', NS_XML]]);
export const NO_ATTRIBUTES: readonly XmlAttribute[] = Object.freeze([]);

/**
 * Namespace names the gateway compares against, mapped to its own constants: soap/envelope.ts
 * compares every element's namespace, and two equal strings that are distinct objects are
 * compared character by character, the same object at once.
 */
const KNOWN_NAMESPACES: ReadonlyMap<string, string> = new Map(
  [NS_SOAP11, NS_SOAP12, NS_OUTBOUND, NS_SOBJECT, NS_XSI, NS_XSD].map((uri) => [uri, uri]),
);

/** Attributes compared pairwise up to this count, in a Set beyond. */
const PAIRWISE_MAX = 8;

function isDeclaration(prefix: string, local: string): boolean {
  return prefix === 'xmlns' || (prefix === '' && local === 'xmlns');
}

/** The namespaces of one document, read in order. */
export class NamespaceScopes {
  /** The first namespace error in the document, if any. */
  error: string | undefined;

  // The last scope built, reused by a sibling that declares the same (Salesforce writes xmlns:sf
  // on every sObject).
  #lastParent: ReadonlyMap<string, string> | undefined;
  #last: ReadonlyMap<string, string> = ROOT_SCOPE;
  readonly #lastDeclarations: string[] = [];
  readonly #declarations: string[] = [];

  /**
   * The scope of an element whose parent's scope is `parent` and whose attributes are the first
   * `count` of (prefixes, locals, values), some of which may declare namespaces.
   */
  scope(parent: ReadonlyMap<string, string>, prefixes: readonly string[], locals: readonly string[], values: readonly string[], count: number): ReadonlyMap<string, string> {
    const declarations = this.#declarations;
    declarations.length = 0;
    for (let k = 0; k < count; k++) {
      const prefix = prefixes[k]!;
      if (prefix === 'xmlns') declarations.push(locals[k]!, values[k]!);
      else if (prefix === '' && locals[k] === 'xmlns') declarations.push('', values[k]!);
    }
    if (declarations.length === 0) return parent;
    const last = this.#lastDeclarations;
    if (parent === this.#lastParent && sameStrings(declarations, last)) return this.#last;
    const scope = new Map(parent);
    for (let k = 0; k < declarations.length; k += 2) this.#declare(scope, declarations[k]!, declarations[k + 1]!);
    this.#lastParent = parent;
    this.#last = scope;
    last.length = 0;
    last.push(...declarations);
    return scope;
  }

  /** Namespaces in XML 1.0 section 3, including its reserved prefixes and namespace names. */
  #declare(scope: Map<string, string>, prefix: string, uri: string): void {
    if (prefix === 'xmlns' || uri === NS_XMLNS || (uri === NS_XML) !== (prefix === 'xml')) {
      this.error ??= 'reserved namespace prefix or name';
    } else if (prefix === '') {
      if (uri === '') scope.delete('');
      else scope.set('', KNOWN_NAMESPACES.get(uri) ?? uri);
    } else if (uri === '') {
      this.error ??= 'a namespace prefix cannot be undeclared in XML 1.0';
    } else {
      scope.set(prefix, KNOWN_NAMESPACES.get(uri) ?? uri);
    }
  }

  /** The namespace name bound to a (non-empty) prefix; '' and an error when there is none. */
  resolve(scope: ReadonlyMap<string, string>, prefix: string): string {
    const uri = scope.get(prefix);
    if (uri !== undefined) return uri;
    this.error ??= 'undeclared namespace prefix';
    return '';
  }

  /** The attributes that are not namespace declarations, resolved (Namespaces in XML 1.0 sections 6.2 and 6.3). */
  attributes(scope: ReadonlyMap<string, string>, prefixes: readonly string[], locals: readonly string[], values: readonly string[], count: number): readonly XmlAttribute[] {
    const attributes: XmlAttribute[] = [];
    for (let k = 0; k < count; k++) {
      const prefix = prefixes[k]!;
      const local = locals[k]!;
      if (isDeclaration(prefix, local)) continue;
      // Unprefixed attributes are in no namespace (section 6.2).
      attributes.push({ ns: prefix === '' ? '' : this.resolve(scope, prefix), local, prefix, value: values[k]! });
    }
    if (attributes.length === 0) return NO_ATTRIBUTES;
    if (attributes.length > 1 && hasDuplicateExpandedName(attributes)) this.error ??= 'duplicate attribute after namespace resolution';
    return attributes;
  }
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

function hasDuplicateExpandedName(attributes: readonly XmlAttribute[]): boolean {
  if (attributes.length <= PAIRWISE_MAX) {
    for (let j = 1; j < attributes.length; j++) {
      const a = attributes[j]!;
      for (let k = 0; k < j; k++) {
        const other = attributes[k]!;
        if (other.local === a.local && other.ns === a.ns) return true;
      }
    }
    return false;
  }
  // U+0000 is not an XML character, so it cannot occur in a namespace name.
  return new Set(attributes.map((a) => `${a.ns}\u0000${a.local}`)).size !== attributes.length;
}
