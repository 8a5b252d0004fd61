/**
 * A lab agent: runs inside one lab namespace (`ip netns exec <ns> node --import tsx lab-agent.ts`, because
 * Node cannot setns) and takes AgentEnvelopes over the IPC channel. It plays the node-local parts of a cluster
 * the speaker talks to (NodePort and pod servers, kube-proxy's health endpoints) and the client side of tests.
 * Exits when the channel closes, so it never outlives the harness.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer as createHttpServer, type Server as HttpServer, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer } from "node:net";
import {
  type AgentCommand, type AgentEnvelope, type AgentHello, type AgentReply, type AgentResults, backendLine,
  type Endpoint, KUBE_PROXY_HEALTHZ_PORT, type ServiceHealthCommand,
} from "./agent-protocol.js";
import { fetchHttp, latency, loop, request } from "./agent-requests.js";

interface Backend { name: string; close(): Promise<void> }
interface ServiceHealth { current: { state: ServiceHealthCommand }; server: HttpServer }

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

function listenHttp(port: number, handler: (res: ServerResponse) => void): Promise<HttpServer> {
  // kube-proxy serves health checks on every node address and ignores the path (upstream.md, healthCheckNodePort).
  const server = createHttpServer((_req, res) => handler(res));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "0.0.0.0", port }, () => resolve(server));
  });
}

const closeHttp = (server: HttpServer): Promise<void> => new Promise((resolve) => {
  server.close(() => resolve());
  server.closeAllConnections();
});

class Agent {
  private readonly backends = new Map<string, Backend>();
  private readonly serviceHealth = new Map<number, ServiceHealth>();
  private nodeHealth: HttpServer | undefined;
  private proxyHealthy = true;

  async handle(command: AgentCommand): Promise<AgentResults[keyof AgentResults]> {
    switch (command.op) {
      case "serve": return this.serve(command, command.name);
      case "unserve": {
        const backend = this.backends.get(key(command));
        this.backends.delete(key(command));
        await backend?.close();
        return null;
      }
      case "nodeHealth": {
        this.proxyHealthy = command.healthy;
        this.nodeHealth ??= await listenHttp(KUBE_PROXY_HEALTHZ_PORT, (res) => this.answerNodeHealth(res));
        return null;
      }
      case "serviceHealth": return this.setServiceHealth(command);
      case "stopServiceHealth": {
        const entry = this.serviceHealth.get(command.port);
        this.serviceHealth.delete(command.port);
        if (entry) await closeHttp(entry.server);
        return null;
      }
      case "request": return request(command);
      case "httpGet": return fetchHttp(command);
      case "loop": return loop(command);
      case "latency": return latency(command);
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

  /** kube-proxy pkg/proxy/healthcheck/proxier_health.go: 503 when unhealthy, JSON with the timestamps. */
  private answerNodeHealth(res: ServerResponse): void {
    const now = new Date().toISOString();
    res.writeHead(this.proxyHealthy ? 200 : 503, { "Content-Type": "application/json", "X-Content-Type-Options": "nosniff" });
    res.end(`{"lastUpdated": ${JSON.stringify(now)},"currentTime": ${JSON.stringify(now)}, "nodeEligible": true}`);
  }

  private async setServiceHealth(command: ServiceHealthCommand): Promise<null> {
    const existing = this.serviceHealth.get(command.port);
    if (existing) {
      existing.current.state = command;
      return null;
    }
    const current = { state: command };
    const server = await listenHttp(command.port, (res) => this.answerServiceHealth(res, current.state));
    this.serviceHealth.set(command.port, { current, server });
    return null;
  }

  /**
   * kube-proxy pkg/proxy/healthcheck/service_health.go (upstream.md, healthCheckNodePort): 200 when the node has
   * local endpoints and kube-proxy is healthy, else 503, with the endpoint count as a weight header.
   */
  private answerServiceHealth(res: ServerResponse, state: ServiceHealthCommand): void {
    const healthy = state.localEndpoints > 0 && this.proxyHealthy;
    res.writeHead(healthy ? 200 : 503, {
      "Content-Type": "application/json",
      "X-Content-Type-Options": "nosniff",
      "X-Load-Balancing-Endpoint-Weight": String(state.localEndpoints),
    });
    res.end(JSON.stringify({
      service: { namespace: state.namespace, name: state.name },
      localEndpoints: state.localEndpoints,
      serviceProxyHealthy: this.proxyHealthy,
    }));
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
      (err: unknown) => send({ id: raw.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies AgentReply),
    );
  });
  // The harness is gone (or disposed of us): nothing else will ever talk to this agent.
  process.on("disconnect", () => process.exit(0));
  send({ hello: "lab-agent", pid: process.pid } satisfies AgentHello);
}

main();
