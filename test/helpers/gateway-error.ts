/** The code of the GatewayError that `fn` throws; fails the test for anything else, or for no throw. */
import { GatewayError, type ErrorCode } from '../../src/errors.js';

export function codeOf(fn: () => unknown): ErrorCode {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err.code;
    throw err;
  }
  throw new Error('expected a GatewayError, nothing was thrown');
}
