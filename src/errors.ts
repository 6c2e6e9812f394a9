/**
 * The one table of rejection codes. Tests, logs, metrics and SOAP faults use the code; the
 * message is safe to show to the peer (no path, address, errno, stack or library name).
 * A retired code is never reused.
 */
export const ERRORS = {
  // HTTP limits (pipeline order: method, path, media type, encoding, size)
  GW_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'only POST is accepted' },
  GW_ERR_NOT_FOUND: { status: 404, message: 'no route for this path' },
  GW_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Content-Type must be text/xml' },
  GW_ERR_CONTENT_ENCODING: { status: 415, message: 'Content-Encoding is not accepted' },
  GW_ERR_BODY_TOO_LARGE: { status: 413, message: 'request body exceeds the size limit' },
  GW_ERR_BODY_INCOMPLETE: { status: 400, message: 'request body does not match its declared length' },
  GW_ERR_BAD_REQUEST: { status: 400, message: 'malformed HTTP request' },
  GW_ERR_HEADERS_TOO_LARGE: { status: 431, message: 'request headers are too large or too many' },
  GW_ERR_REQUEST_TIMEOUT: { status: 408, message: 'request was not received in time' },
  // XML
  GW_ERR_XML_MALFORMED: { status: 400, message: 'body is not well-formed XML' },
  GW_ERR_XML_DOCTYPE: { status: 400, message: 'DOCTYPE is not allowed' },
  GW_ERR_XML_PI: { status: 400, message: 'processing instructions are not allowed' },
  GW_ERR_XML_ENCODING: { status: 400, message: 'body must be UTF-8' },
  GW_ERR_XML_LIMIT: { status: 400, message: 'XML exceeds a structural limit' },
  // SOAP shape
  GW_ERR_SOAP_VERSION: { status: 400, message: 'only SOAP 1.1 envelopes are accepted' },
  GW_ERR_SOAP_INVALID: { status: 400, message: 'envelope is not a valid outbound-message notifications call' },
  GW_ERR_NOTIFICATION_COUNT: { status: 400, message: 'a message must hold 1 to 100 notifications' },
  GW_ERR_ID_INVALID: { status: 400, message: 'an id is malformed or has a wrong checksum' },
  GW_ERR_URL_DENIED: { status: 400, message: 'EnterpriseUrl or PartnerUrl is not an allowed Salesforce URL' },
  // Policy
  GW_ERR_CLIENT_CERT_DENIED: { status: 403, message: 'client certificate is not accepted' },
  GW_ERR_ORG_DENIED: { status: 403, message: 'organization is not allowed' },
  GW_ERR_ACTION_DENIED: { status: 403, message: 'action is not allowed on this route' },
  GW_ERR_OBJECT_TYPE_DENIED: { status: 403, message: 'object type is not allowed on this route' },
  // Upstream
  GW_ERR_UPSTREAM_UNAVAILABLE: { status: 502, message: 'internal service is unavailable' },
  GW_ERR_UPSTREAM_BAD_RESPONSE: { status: 502, message: 'internal service gave an invalid answer' },
  GW_ERR_UPSTREAM_TIMEOUT: { status: 504, message: 'internal service did not answer in time' },
  // Gateway state
  GW_ERR_OVERLOADED: { status: 503, message: 'gateway is overloaded, retry later' },
  GW_ERR_SHUTTING_DOWN: { status: 503, message: 'gateway is shutting down, retry later' },
  // Logged, never sent: the client closed the connection before its answer (status as nginx logs it).
  GW_ERR_CLIENT_CLOSED: { status: 499, message: 'the client closed the connection before the answer' },
  GW_ERR_INTERNAL: { status: 500, message: 'internal gateway error' },
} as const satisfies Record<string, { readonly status: number; readonly message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** A rejection with a stable code. `detail` is for logs only and must hold no secret. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, detail?: string) {
    super(ERRORS[code].message);
    this.name = 'GatewayError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.detail = detail;
  }
}

export function isGatewayError(err: unknown): err is GatewayError {
  return err instanceof GatewayError;
}

/** A configuration problem, named by its key path, e.g. `routes[0].target`. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
