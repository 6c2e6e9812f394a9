/**
 * Turns an internal service's answer into the Ack relayed to Salesforce. Ack true only for a 2xx
 * whose body says so (soap: a notificationsResponse with Ack true; json: {"ack": true}); Ack false
 * is relayed as Ack false so Salesforce retries; anything else is a 502, which Salesforce also
 * retries. Never Ack true on a guess: a lost message is worse than a repeated one.
 */
import type { RouteFormat } from '../config/types.js';
import { GatewayError } from '../errors.js';
import { readJsonAck, readSoapAck } from '../soap/ack.js';
import type { UpstreamAnswer } from './upstream.js';

export function relayAck(format: RouteFormat, answer: UpstreamAnswer): boolean {
  if (answer.status < 200 || answer.status > 299) {
    throw new GatewayError('GW_ERR_UPSTREAM_BAD_RESPONSE', `status ${answer.status}`);
  }
  return format === 'soap' ? readSoapAck(answer.body) : readJsonAck(answer.body);
}
