/**
 * Moving message bytes between the event loop and the parser's worker thread without copying
 * them when that is safe.
 */

/**
 * The bytes as a Uint8Array whose ArrayBuffer can be put in a transfer list. When `bytes` spans
 * the whole of an ArrayBuffer of its own (not Node's shared pool), that is the same memory and
 * the caller must not use `bytes` afterwards (the transfer detaches it); else it is a copy.
 */
export function transferable(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const { buffer } = bytes;
  if (buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength) {
    return new Uint8Array(buffer, 0, bytes.byteLength);
  }
  return new Uint8Array(bytes);
}
