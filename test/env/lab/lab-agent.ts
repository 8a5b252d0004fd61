/**
 * A lab agent: runs inside one lab namespace (`ip netns exec <ns> node --import tsx lab-agent.ts`, because
 * Node cannot setns) and takes AgentEnvelopes over the IPC channel. It plays the client side of tests (requests,
 * failover loops, latency series) and serves ad-hoc endpoints a test asks for. Pods run their own server
 * (pod-server.ts); NodePorts and health checks are the real kube-proxy's (kube-node-processes.ts).
 * Exits when the channel closes, so it never outlives the harness.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer as createTcpServer, type Server as TcpServer } from "node:net";
import {
  type AgentCommand,
  type AgentEnvelope,
  type AgentHello,
  type AgentReply,
  type AgentResults,
  backendLine,
  type Endpoint,
} from "./agent-protocol.js";
import { fetchHttp, latency, loop, request } from "./agent-requests.js";

interface Backend {
  name: string;
  close(): Promise<void>;
}

const key = (e: Endpoint): string => `${e.protocol}/${e.ip}:${e.port}`;

function listenTcp(ip: string, port: number, backend: { name: string }): Promise<TcpServer> {
  const server = createTcpServer((socket) => {
    socket.on("error", () => undefined); // a client that resets is not the backend's problem
    socket.end(`${backendLine(backend.name, socket.remoteAddress ?? "?", socket.remotePort ?? 0)}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: ip, port, exclusive: true }, () => resolve(server));
  });
}

function listenUdp(ip: string, port: number, backend: { name: string }): Promise<UdpSocket> {
  const socket = createSocket("udp4");
  socket.on("message", (_msg, remote) => {
    socket.send(`${backendLine(backend.name, remote.address, remote.port)}\n`, remote.port, remote.address);
  });
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind({ address: ip, port, exclusive: true }, () => resolve(socket));
  });
}

class Agent {
  private readonly backends = new Map<string, Backend>();

  async handle(command: AgentCommand): Promise<AgentResults[keyof AgentResults]> {
    switch (command.op) {
      case "serve":
        return this.serve(command, command.name);
      case "unserve": {
        const backend = this.backends.get(key(command));
        this.backends.delete(key(command));
        await backend?.close();
        return null;
      }
      case "request":
        return request(command);
      case "httpGet":
        return fetchHttp(command);
      case "loop":
        return loop(command);
      case "latency":
        return latency(command);
    }
  }

  private async serve(endpoint: Endpoint, name: string): Promise<null> {
    const existing = this.backends.get(key(endpoint));
    if (existing) {
      existing.name = name;
      return null;
    }
    const backend: Backend = { name, close: () => Promise.resolve() };
    if (endpoint.protocol === "TCP") {
      const server = await listenTcp(endpoint.ip, endpoint.port, backend);
      backend.close = () => new Promise((resolve) => server.close(() => resolve()));
    } else {
      const socket = await listenUdp(endpoint.ip, endpoint.port, backend);
      backend.close = () => new Promise((resolve) => socket.close(() => resolve()));
    }
    this.backends.set(key(endpoint), backend);
    return null;
  }
}

function main(): void {
  const send = process.send?.bind(process);
  if (!send) {
    process.stderr.write("lab-agent: no IPC channel; start it with stdio [.., .., .., 'ipc']\n");
    process.exit(2);
  }
  const agent = new Agent();
  process.on("message", (raw: AgentEnvelope) => {
    agent.handle(raw.command).then(
      (result) => send({ id: raw.id, ok: true, result } satisfies AgentReply),
      (err: unknown) =>
        send({ id: raw.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies AgentReply),
    );
  });
  // The harness is gone (or disposed of us): nothing else will ever talk to this agent.
  process.on("disconnect", () => process.exit(0));
  send({ hello: "lab-agent", pid: process.pid } satisfies AgentHello);
}

main();
