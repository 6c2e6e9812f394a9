/**
 * The one hardened XML parser. soap/scanner.ts reads the body in one linear pass over its bytes:
 * UTF-8 only, strictly (XML 1.0 section 4.3.3 and Appendix F); no DOCTYPE, so no entity, external
 * DTD or parameter entity can exist; no processing instruction; full XML 1.0 and Namespaces in
 * XML 1.0 well-formedness under structural limits; references decoded exactly once; and the
 * namespace-resolved XmlElement tree built as it goes.
 *
 * It replaced a strict pre-scan followed by fast-xml-parser, now kept only as the tests' oracle
 * (test/oracle/parser-fxp.ts): 4.2 ms against 0.46 ms to parse and validate a 100-notification
 * message, 285 ms against 38 ms for a 5 MB one (bench/xml-scanner.mjs). It reads every document as
 * that parser did, the same tree or the same error code, which differential fuzzing checks
 * (test/unit/soap/scanner.fuzz.test.ts).
 */
import { scanXml } from './scanner.js';
import type { XmlElement, XmlLimits } from './types.js';

export const DEFAULT_XML_LIMITS: XmlLimits = Object.freeze({
  // Envelope/Body/notifications/Notification/sObject/field is 6 deep.
  maxDepth: 16,
  // 100 notifications of a few hundred fields each.
  maxElements: 50_000,
  // The scanner also caps attributes in the whole document at maxElements: each costs about as
  // much as an element, and a notifications call has about one per element.
  maxAttributesPerElement: 32,
  maxNameLength: 256,
  // Characters (UTF-16 code units, references decoded) of one element's character data, and of
  // one attribute value or comment. Salesforce's largest text fields (Long and Rich Text Area)
  // hold 131,072.
  maxTextLength: 262_144,
});

/** The deepest document any limits may allow (the previous parser's bound, kept). */
const MAX_SUPPORTED_DEPTH = 1024;

/**
 * Parses a request body into a namespace-resolved element tree, or throws a GatewayError:
 * GW_ERR_XML_ENCODING, GW_ERR_XML_DOCTYPE, GW_ERR_XML_PI, GW_ERR_XML_LIMIT or GW_ERR_XML_MALFORMED.
 *
 * @example parseXml(Buffer.from('<a xmlns="urn:x">1</a>'), DEFAULT_XML_LIMITS).ns // 'urn:x'
 */
export function parseXml(body: Buffer, limits: XmlLimits): XmlElement {
  checkLimits(limits);
  return scanXml(body, limits);
}

/** Throws a RangeError unless every limit is a positive integer and maxDepth is supported. */
export function checkLimits(limits: XmlLimits): void {
  for (const value of Object.values(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError('XML limits must be positive integers');
  }
  if (limits.maxDepth > MAX_SUPPORTED_DEPTH) throw new RangeError(`maxDepth must be at most ${MAX_SUPPORTED_DEPTH}`);
}
