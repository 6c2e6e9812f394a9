/** A namespace-resolved XML element, as produced by soap/parser.ts. */
export interface XmlAttribute {
  /** Namespace URI, '' for an unprefixed attribute. */
  readonly ns: string;
  readonly local: string;
  /** Raw prefix as written (for resolving QName values such as xsi:type). */
  readonly prefix: string;
  /** Value with references decoded exactly once. */
  readonly value: string;
}

export interface XmlElement {
  readonly ns: string;
  readonly local: string;
  readonly prefix: string;
  readonly attributes: readonly XmlAttribute[];
  readonly children: readonly XmlElement[];
  /** Character data directly inside this element (text and CDATA, references decoded once), concatenated. */
  readonly text: string;
  /** In-scope namespace declarations (prefix → URI, '' for the default), for resolving QName values. */
  readonly namespaces: ReadonlyMap<string, string>;
}

/** One field of an sObject: local name (e.g. `Email`) and its value; null when `xsi:nil="true"`. */
export interface SObjectField {
  readonly name: string;
  readonly value: string | null;
}

/** What policy and the logs read of a notification. */
export interface NotificationHead {
  /** 18-character notification id (`04l…`); a 15-character one is converted. */
  readonly id: string;
  /** sObject type local name from `xsi:type` (e.g. `Contact`, `Invoice__c`); null only for an empty sObject without a type. */
  readonly type: string | null;
}

export interface Notification extends NotificationHead {
  /** Fields in document order. Empty for a record deleted before delivery. */
  readonly fields: readonly SObjectField[];
}

/**
 * What policy and the logs read of a validated message: everything but the SessionId and the
 * field values, which only the rebuilt body carries on.
 */
export interface MessageHead {
  readonly organizationId: string;
  readonly actionId: string;
  readonly enterpriseUrl: string;
  readonly partnerUrl: string;
  readonly notifications: readonly NotificationHead[];
}

/** The validated model of a `notifications()` call: the only thing forwarded is rebuilt from it. */
export interface OutboundMessage extends MessageHead {
  /** A live API session: a credential. Forwarded only when a route opts in; never logged. */
  readonly sessionId: string | null;
  readonly notifications: readonly Notification[];
}

export interface XmlLimits {
  readonly maxDepth: number;
  readonly maxElements: number;
  readonly maxAttributesPerElement: number;
  readonly maxNameLength: number;
  readonly maxTextLength: number;
}
