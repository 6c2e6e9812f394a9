/**
 * Reads a parsed SOAP 1.1 `notifications` call into the OutboundMessage model, strictly and by
 * namespace only (shared/SALESFORCE.md "The call"): whatever prefixes the sender chose, only the
 * expanded names count. Anything the model cannot hold is rejected, so nothing unexpected can be
 * forwarded. Rejection details name element paths only, never the SessionId or field values.
 *
 * It runs once per request over every field, so the accepted path allocates only the model:
 * element paths are written only into rejection details, lists are read by index (array
 * destructuring goes through the iterator protocol), and API names are checked once per call.
 */
import { NS_OUTBOUND, NS_SOAP11, NS_SOAP12, NS_SOBJECT, NS_XSI } from '../constants.js';
import { GatewayError } from '../errors.js';
import { ID_PREFIX, toId18 } from '../policy/ids.js';
import type { Notification, OutboundMessage, SObjectField, XmlAttribute, XmlElement } from './types.js';

/** API names of sObject types and fields, custom ones included (`Invoice__c`). */
export const SOBJECT_NAME = /^[A-Za-z][A-Za-z0-9_]{0,79}$/;

/** One `notifications` call carries 1 to 100 notifications (Outbound Messaging docs). */
export const MAX_NOTIFICATIONS = 100;

const HEADER_FIELDS = ['OrganizationId', 'ActionId', 'SessionId', 'EnterpriseUrl', 'PartnerUrl'] as const;
const CALL_PATH = 'Envelope/Body/notifications';
const XML_SPACE_ONLY = /^[ \t\r\n]*$/;

/**
 * Validates a notifications envelope and returns its model.
 *
 * @example readOutboundMessage(parseXml(body, DEFAULT_XML_LIMITS)).notifications.length
 */
export function readOutboundMessage(root: XmlElement): OutboundMessage {
  if (root.ns === NS_SOAP12) throw new GatewayError('GW_ERR_SOAP_VERSION', 'SOAP 1.2 envelope');
  mustBe(root, NS_SOAP11, 'Envelope', '');
  onlyNamespaceDeclarations(root, 'Envelope');
  const parts = elementOnly(root, 'Envelope');
  let next = 0;
  const header = parts[0];
  if (header !== undefined && header.ns === NS_SOAP11 && header.local === 'Header') {
    // No header block is defined for this call; one we do not understand must not be ignored
    // (SOAP 1.1 section 4.2.3, mustUnderstand), so any block is refused.
    onlyNamespaceDeclarations(header, 'Envelope/Header');
    if (elementOnly(header, 'Envelope/Header').length > 0) throw invalid('Envelope/Header: header blocks are not accepted');
    next++;
  }
  const body = parts[next];
  if (body === undefined || parts.length !== next + 1) throw invalid('Envelope: expected an optional Header and one Body');
  mustBe(body, NS_SOAP11, 'Body', 'Envelope');
  onlyNamespaceDeclarations(body, 'Envelope/Body');
  const calls = elementOnly(body, 'Envelope/Body');
  const call = calls[0];
  if (call === undefined || calls.length !== 1) throw invalid('Envelope/Body: expected exactly one notifications');
  return readNotifications(call);
}

function invalid(detail: string): GatewayError {
  return new GatewayError('GW_ERR_SOAP_INVALID', detail);
}

function mustBe(element: XmlElement, ns: string, local: string, parent: string): void {
  if (element.ns !== ns || element.local !== local) {
    const found = element.local === local ? `${local} in another namespace` : element.local;
    throw invalid(`${parent === '' ? '' : `${parent}: `}expected ${local}, found ${found}`);
  }
}

function isXmlSpace(text: string): boolean {
  return text === '' || XML_SPACE_ONLY.test(text);
}

/** Child elements of element-only content; whitespace between them is ignorable. */
function elementOnly(element: XmlElement, path: string): readonly XmlElement[] {
  if (!isXmlSpace(element.text)) throw invalid(`${path}: text in element-only content`);
  return element.children;
}

/** Namespace declarations are not in `attributes` (soap/parser.ts), so any attribute is extra. */
function onlyNamespaceDeclarations(element: XmlElement, path: string): void {
  const extra = element.attributes[0];
  if (extra !== undefined) throw invalid(`${path}: unexpected attribute ${extra.local}`);
}

/**
 * The xsi:nil flag (XML Schema 1.0 part 1, section 2.6.2). Salesforce writes it only to say
 * "nil", so when present it must be exactly "true" or "1"; any other attribute is refused, and a
 * nil element must be empty.
 */
function readNil(element: XmlElement, path: string): boolean {
  const attributes = element.attributes;
  const attribute = attributes[0];
  if (attribute === undefined) return false;
  const extra = attributes[1];
  if (extra !== undefined || attribute.ns !== NS_XSI || attribute.local !== 'nil') {
    throw invalid(`${path}: unexpected attribute ${(extra ?? attribute).local}`);
  }
  if (attribute.value !== 'true' && attribute.value !== '1') throw invalid(`${path}: xsi:nil must be true or 1`);
  if (element.text !== '' || element.children.length > 0) throw invalid(`${path}: xsi:nil element has content`);
  return true;
}

/** A simple-content element: its text exactly as sent, never trimmed. */
function textValue(element: XmlElement, path: string): string {
  if (element.children.length > 0) throw invalid(`${path}: child elements in a simple value`);
  onlyNamespaceDeclarations(element, path);
  return element.text;
}

/** A simple-content element that may carry xsi:nil, which makes it null. */
function nillableValue(element: XmlElement, parentPath: string): string | null {
  if (element.children.length === 0 && element.attributes.length === 0) return element.text;
  const path = `${parentPath}/${element.local}`;
  if (element.children.length > 0) throw invalid(`${path}: child elements in a simple value`);
  return readNil(element, path) ? null : element.text;
}

function readId(value: string, prefix: string, path: string): string {
  const id = toId18(value, prefix);
  if (id === null) throw new GatewayError('GW_ERR_ID_INVALID', `${path}: expected a ${prefix} id`);
  return id;
}

function readNotifications(call: XmlElement): OutboundMessage {
  const path = CALL_PATH;
  mustBe(call, NS_OUTBOUND, 'notifications', 'Envelope/Body');
  onlyNamespaceDeclarations(call, path);
  const children = elementOnly(call, path);
  const field = (index: number): XmlElement => {
    const name = HEADER_FIELDS[index] ?? '';
    const child = children[index];
    if (child === undefined) throw invalid(`${path}: missing ${name}`);
    mustBe(child, NS_OUTBOUND, name, path);
    return child;
  };
  const organizationId = readId(textValue(field(0), `${path}/OrganizationId`), ID_PREFIX.organization, `${path}/OrganizationId`);
  const actionId = readId(textValue(field(1), `${path}/ActionId`), ID_PREFIX.action, `${path}/ActionId`);
  const sessionId = nillableValue(field(2), path);
  const enterpriseUrl = textValue(field(3), `${path}/EnterpriseUrl`);
  const partnerUrl = textValue(field(4), `${path}/PartnerUrl`);

  const count = children.length - HEADER_FIELDS.length;
  if (count <= 0 || count > MAX_NOTIFICATIONS) {
    throw new GatewayError('GW_ERR_NOTIFICATION_COUNT', `${path}: ${count} elements after PartnerUrl`);
  }
  // API names checked in this call, each with the index of the last notification that used it.
  const names = new Map<string, number>();
  const notifications: Notification[] = [];
  for (let index = 0; index < count; index++) {
    notifications.push(readNotification(children[HEADER_FIELDS.length + index]!, index, names));
  }
  return {
    organizationId,
    actionId,
    sessionId,
    enterpriseUrl,
    partnerUrl,
    notifications,
  };
}

/** `names` maps the API names already checked in this call to the last notification that used them. */
function readNotification(element: XmlElement, index: number, names: Map<string, number>): Notification {
  const path = `${CALL_PATH}/Notification[${index + 1}]`;
  mustBe(element, NS_OUTBOUND, 'Notification', CALL_PATH);
  onlyNamespaceDeclarations(element, path);
  const parts = elementOnly(element, path);
  const idElement = parts[0];
  const sObject = parts[1];
  if (idElement === undefined || sObject === undefined || parts.length !== 2) throw invalid(`${path}: expected Id then sObject`);
  mustBe(idElement, NS_OUTBOUND, 'Id', path);
  mustBe(sObject, NS_OUTBOUND, 'sObject', path);
  const id = readId(textValue(idElement, `${path}/Id`), ID_PREFIX.notification, `${path}/Id`);
  const sObjectPath = `${path}/sObject`;
  let typeAttribute: XmlAttribute | undefined;
  for (const attribute of sObject.attributes) {
    if (attribute.ns !== NS_XSI || attribute.local !== 'type') throw invalid(`${sObjectPath}: unexpected attribute ${attribute.local}`);
    typeAttribute = attribute;
  }
  const children = elementOnly(sObject, sObjectPath);
  const type = typeAttribute === undefined ? null : readType(typeAttribute.value, sObject.namespaces, sObjectPath, names);
  // A record deleted before delivery arrives as an empty sObject (Outbound Messaging docs).
  if (type === null && children.length > 0) throw invalid(`${sObjectPath}: fields without xsi:type`);
  return { id, type, fields: readFields(children, sObjectPath, index, names) };
}

function readFields(children: readonly XmlElement[], path: string, index: number, names: Map<string, number>): SObjectField[] {
  const fields: SObjectField[] = [];
  for (const child of children) {
    const name = child.local;
    const last = names.get(name);
    if (child.ns !== NS_SOBJECT || (last === undefined && !SOBJECT_NAME.test(name))) throw invalid(`${path}: unexpected element ${name}`);
    if (last === index) throw invalid(`${path}/${name}: field repeated`);
    names.set(name, index);
    fields.push({ name, value: nillableValue(child, path) });
  }
  return fields;
}

/** xsi:type is a QName (XML Schema 1.0 part 2, section 3.2.18), resolved with the element's scope. */
function readType(value: string, namespaces: ReadonlyMap<string, string>, path: string, names: Map<string, number>): string {
  const colon = value.indexOf(':');
  // An unprefixed QName takes the default namespace in scope (XML Schema 1.0 part 2, 3.2.18.1).
  const prefix = colon === -1 ? '' : value.slice(0, colon);
  const local = value.slice(colon + 1);
  if (namespaces.get(prefix) !== NS_SOBJECT || (!names.has(local) && !SOBJECT_NAME.test(local))) {
    throw invalid(`${path}: xsi:type must name an sObject type in ${NS_SOBJECT}`);
  }
  return local;
}
