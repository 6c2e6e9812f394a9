/** SOAP 1.1 envelope namespace (SOAP 1.1 note, section 4.1.2). */
export const NS_SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
/** SOAP 1.2 envelope namespace: recognised only to reject it with a clear code. */
export const NS_SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';
/** Salesforce outbound-messaging WSDL namespace. */
export const NS_OUTBOUND = 'http://soap.sforce.com/2005/09/outbound';
/** Enterprise sObject namespace used for `sObject` fields and `xsi:type`. */
export const NS_SOBJECT = 'urn:sobject.enterprise.soap.sforce.com';
export const NS_XSI = 'http://www.w3.org/2001/XMLSchema-instance';
export const NS_XSD = 'http://www.w3.org/2001/XMLSchema';
export const NS_XMLNS = 'http://www.w3.org/2000/xmlns/';
export const NS_XML = 'http://www.w3.org/XML/1998/namespace';

export const CONTENT_TYPE_XML = 'text/xml; charset=utf-8';
export const CONTENT_TYPE_JSON = 'application/json; charset=utf-8';

/** Salesforce waits 60 s for an answer (Outbound Messaging docs); route timeouts must stay below. */
export const SALESFORCE_TIMEOUT_MS = 60_000;

/** Hop-by-hop headers, RFC 9110 section 7.6.1: never forwarded (we forward no incoming header at all). */
export const HOP_BY_HOP = Object.freeze([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
]);
