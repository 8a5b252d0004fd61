/** The heartbeat socket's two operations as promises, so membership.ts holds only the protocol. */
import dgram from "node:dgram";
import { MembershipBindError } from "./membership-errors.js";

/** A UDP socket bound to `address`:`port` (udp6 for an IPv6 address). Rejects with MembershipBindError. */
export async function bindUdpSocket(address: string, port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type: address.includes(":") ? "udp6" : "udp4" });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.close();
      reject(new MembershipBindError(`cannot bind heartbeat socket ${address}:${port}`, { cause: err }));
    };
    socket.once("error", onError);
    socket.bind(port, address, () => {
      socket.off("error", onError);
      resolve();
    });
  });
  return socket;
}

/** Resolves when the datagram has left, with the error when it could not; never rejects. */
export function sendDatagram(
  socket: dgram.Socket,
  buf: Uint8Array,
  port: number,
  ip: string,
): Promise<Error | undefined> {
  return new Promise((resolve) => {
    try {
      socket.send(buf, port, ip, (err) => resolve(err ?? undefined));
    } catch (err) {
      resolve(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
