/**
 * Policy on a validated message, in the order the answers are specified: organization (403),
 * the route's ActionIds and object types (403), then the Salesforce URLs (400), since a backend
 * that calls back with the SessionId must not be pointed anywhere else.
 */
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import { GatewayError } from '../errors.js';
import type { MessageHead } from '../soap/types.js';
import { checkSalesforceUrl } from './urls.js';

export function checkMessagePolicy(msg: MessageHead, route: RouteConfig, config: GatewayConfig): void {
  // Both sides are in 18-character form: envelope.ts converts, config load converts.
  if (!config.organizations.has(msg.organizationId)) throw new GatewayError('GW_ERR_ORG_DENIED');
  if (route.actionIds.size > 0 && !route.actionIds.has(msg.actionId)) throw new GatewayError('GW_ERR_ACTION_DENIED');
  if (route.objectTypes.size > 0) {
    for (const n of msg.notifications) {
      // An untyped (empty, deleted-record) sObject cannot prove its type: denied where types are restricted.
      if (n.type === null || !route.objectTypes.has(n.type)) {
        throw new GatewayError('GW_ERR_OBJECT_TYPE_DENIED', `type ${n.type ?? '(none)'}`);
      }
    }
  }
  checkSalesforceUrl(msg.enterpriseUrl, config.salesforceHosts);
  checkSalesforceUrl(msg.partnerUrl, config.salesforceHosts);
}
