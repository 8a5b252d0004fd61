/**
 * The process a lab pod runs (started by lab-kubelet.ts inside the pod's network namespace): the lab's echo on
 * every container port. Killing it is a container crash: the kubelet stand-in then reports the pod unready.
 *
 * Self-contained (only `node:` imports, erasable syntax only) so Node 24 runs it directly with its built-in type
 * stripping: no tsx, a pod starts in tens of milliseconds.
 *
 * Argument: JSON `{ name, ports: [{ protocol: "TCP" | "UDP", port, http }] }`. What each port answers:
 * - TCP, not http: on connect, the line `backend=<pod> client=<ip>:<port>` (as the lab agent's `request` expects);
 * - UDP: the same line for every datagram, sent back to its source;
 * - TCP, http (a container port named `http...`): agnhost netexec's answers, which the conformance data-path cases
 *   use on real clusters: `GET /hostname` -> the pod name, `GET /clientip` -> `<ip>:<port>`, anything else -> the line.
 * Prints `ready` once every port is bound.
 */
import { createSocket } from "node:dgram";
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer } from "node:net";

interface PodPort {
  protocol: "TCP" | "UDP";
  port: number;
  http: boolean;
}
interface PodServerSpec {
  name: string;
  ports: PodPort[];
}

const spec = JSON.parse(process.argv[2] ?? "{}") as PodServerSpec;
const line = (ip: string | undefined, port: number | undefined): string =>
  `backend=${spec.name} client=${ip ?? "?"}:${port ?? 0}`;

function serve(p: PodPort): Promise<void> {
  return new Promise((resolve, reject) => {
    if (p.protocol === "UDP") {
      const socket = createSocket("udp4");
      socket.on("message", (_msg, remote) =>
        socket.send(`${line(remote.address, remote.port)}\n`, remote.port, remote.address),
      );
      socket.once("error", reject);
      socket.bind({ address: "0.0.0.0", port: p.port }, () => resolve());
      return;
    }
    const server = p.http
      ? createHttpServer((req, res) => {
          const { remoteAddress, remotePort } = req.socket;
          const body =
            req.url === "/hostname"
              ? spec.name
              : req.url === "/clientip"
                ? `${remoteAddress ?? "?"}:${remotePort ?? 0}`
                : line(remoteAddress, remotePort);
          res.writeHead(200, { "content-type": "text/plain", connection: "close" }).end(body);
        })
      : createTcpServer((socket) => {
          socket.on("error", () => undefined);
          socket.end(`${line(socket.remoteAddress, socket.remotePort)}\n`);
        });
    server.once("error", reject);
    server.listen({ host: "0.0.0.0", port: p.port }, () => resolve());
  });
}

Promise.all(spec.ports.map(serve)).then(
  () => process.stdout.write("ready\n"),
  (err: unknown) => {
    process.stderr.write(`pod-server ${spec.name}: ${String(err)}\n`);
    process.exit(1);
  },
);
