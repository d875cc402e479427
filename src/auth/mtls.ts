// The client certificate as an identity (docs/configuration.md, `[server.tls]`): only the leaf subject's CN and O
// values count, and only from a certificate that chained to the configured client CA bundle during the handshake.
import type { Socket } from 'node:net';
import { TLSSocket, type PeerCertificate } from 'node:tls';
import type { CertificateIdentity } from '../policy/identity.ts';

export const NO_CERTIFICATE: CertificateIdentity = Object.freeze({ commonNames: [], organizations: [] });

/** Subject attributes are a string, or an array when the attribute repeats (`O=Platform, O=Ops`). */
function values(attribute: unknown): string[] {
  const list = Array.isArray(attribute) ? (attribute as unknown[]) : [attribute];
  // A value that was not valid UTF-8 comes out with replacement characters: dropped rather than half-matched.
  return list.filter((value): value is string => typeof value === 'string' && !value.includes('\uFFFD'));
}

function presentedCertificate(socket: TLSSocket): PeerCertificate | undefined {
  const certificate = socket.getPeerCertificate();
  // Node returns an empty object when the client sent none.
  return certificate && Object.keys(certificate).length > 0 ? certificate : undefined;
}

export function certificateIdentity(socket: Socket): CertificateIdentity {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return NO_CERTIFICATE;
  const subject = presentedCertificate(socket)?.subject as Record<string, unknown> | undefined;
  if (subject === undefined) return NO_CERTIFICATE;
  return { commonNames: values(subject.CN), organizations: values(subject.O) };
}

/**
 * With `client_auth = "optional"` Node completes the handshake even for a certificate that failed verification and
 * only flags the socket; such a connection must not go on as anonymous, so it is closed (docs/operations.md,
 * "TLS"). Returns true when the socket was refused.
 */
export function refuseUnverifiedCertificate(socket: TLSSocket): boolean {
  if (socket.authorized || presentedCertificate(socket) === undefined) return false;
  socket.destroy();
  return true;
}
