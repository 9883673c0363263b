/**
 * The largest datagram a configured publisher will ever send, computed with the library's own encoder and
 * signer, so that the configuration check and the publisher's EMSGSIZE check cannot disagree: a config that
 * loads never fails to start on message size.
 */
import { encodeAnnouncement } from '../../discovery/codec.js';
import { createSigner } from '../../discovery/security/index.js';

export function announcementWireBytes(
  p: {
    message: string | Record<string, unknown>;
    group: string;
    port: number;
    announceTtlMs?: number | undefined;
  },
  signingKeyId: string | undefined,
): number {
  // The longest sequence number and timestamp and the goodbye flag give the biggest datagram this message
  // produces.
  const bytes = encodeAnnouncement(p.message, {
    seq: Number.MAX_SAFE_INTEGER,
    timestamp: 9_999_999_999.999,
    goodbye: true,
    ...(p.announceTtlMs !== undefined ? { ttl: p.announceTtlMs / 1000 } : {}),
  });
  if (signingKeyId === undefined) return bytes.length;
  // The MAC's length doesn't depend on the key, so any 32 bytes measure it.
  const signer = createSigner({
    keyId: signingKeyId,
    key: Buffer.alloc(32, 1),
    group: p.group,
    port: p.port,
  });
  return signer.sign(bytes).length;
}
