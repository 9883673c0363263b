import { createSocket, type Socket } from 'node:dgram';
import { errorCode, errorMessage, VaultMulticastError } from '../errors.js';
import type { IpFamily } from './interfaces.js';

export interface OpenOptions {
  family: IpFamily;
  /** Local address to bind (the group, for a listener); undefined for the wildcard. */
  address: string | undefined;
  port: number;
  reuseAddr: boolean;
  /** SO_RCVBUF to ask for, in bytes. */
  recvBufferSize?: number;
}

const HINTS: Record<string, string> = {
  EADDRINUSE: 'another socket holds this port without SO_REUSEADDR',
  EADDRNOTAVAIL: 'the address is not available on this host',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EINVAL: 'invalid address or scope (an IPv6 link-local group needs an interface name)',
  ENODEV: 'no such interface',
};

/** A human sentence for a failed socket operation, with Node's code kept in it. */
export function describeSocketError(what: string, err: unknown): string {
  const code = errorCode(err);
  const hint = HINTS[code];
  return `${what}: ${hint ? `${hint} (${code})` : errorMessage(err)}`;
}

/**
 * Creates and binds a UDP socket. Resolves once it listens; rejects with a VaultMulticastError carrying
 * Node's code (EADDRINUSE, EADDRNOTAVAIL, ...) and closes the socket, so a failed bind leaks nothing.
 */
export function openSocket(opts: OpenOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    let socket: Socket;
    try {
      socket = createSocket({
        type: opts.family === 'IPv6' ? 'udp6' : 'udp4',
        reuseAddr: opts.reuseAddr,
        ...(opts.recvBufferSize ? { recvBufferSize: opts.recvBufferSize } : {}),
      });
    } catch (err) {
      reject(
        new VaultMulticastError(errorCode(err), describeSocketError('cannot create socket', err), {
          cause: err,
        }),
      );
      return;
    }
    const where = `${opts.address === undefined ? '*' : opts.address.includes(':') ? `[${opts.address}]` : opts.address}:${opts.port}`;
    const onError = (err: Error): void => {
      socket.close();
      reject(
        new VaultMulticastError(errorCode(err), describeSocketError(`cannot bind ${where}`, err), {
          cause: err,
        }),
      );
    };
    socket.once('error', onError);
    try {
      socket.bind({ port: opts.port, address: opts.address, exclusive: true }, () => {
        socket.removeListener('error', onError);
        resolve(socket);
      });
    } catch (err) {
      socket.removeListener('error', onError);
      socket.close();
      reject(
        new VaultMulticastError(errorCode(err), describeSocketError(`cannot bind ${where}`, err), {
          cause: err,
        }),
      );
    }
  });
}

/** Closes a socket, ignoring one that is closed already. */
export function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
}
