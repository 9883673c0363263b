/**
 * The one error class the library throws or rejects with. `code` is Node's socket error code where one
 * exists (EADDRINUSE, ENODEV, EADDRNOTAVAIL, ...) or one of the library's own (EMSGSIZE for a message over
 * the size limit, EINVAL for a bad option), so callers can branch on it without parsing the message.
 */
export class VaultMulticastError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VaultMulticastError';
    this.code = code;
  }
}

/** errno values that os.networkInterfaces() reports only as numbers (ERR_SYSTEM_ERROR, "Unknown system error"). */
const DESCRIPTOR_ERRNOS: Record<number, string> = { 24: 'EMFILE', 23: 'ENFILE' };

/** Node's error code of `err`, or 'UNKNOWN'. A system error out of descriptors is EMFILE/ENFILE whatever wraps it. */
export function errorCode(err: unknown): string {
  const errno = (err as { info?: { errno?: unknown } } | null)?.info?.errno;
  if (typeof errno === 'number' && DESCRIPTOR_ERRNOS[Math.abs(errno)])
    return DESCRIPTOR_ERRNOS[Math.abs(errno)]!;
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return 'UNKNOWN';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
