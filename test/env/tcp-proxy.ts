import { type Server, type Socket, createConnection, createServer } from "node:net";

/**
 * A TCP proxy on loopback that can turn its current connections into black holes: the sockets stay open but
 * nothing passes in either direction, the way a half-open connection behind a dead NAT behaves. New
 * connections work normally. Used to prove the controller recovers from a watch that goes silent.
 */
export class BlackholeProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket; blackholed: boolean }>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
      const pair = { client, upstream, blackholed: false };
      this.pairs.add(pair);
      client.on("data", (d) => pair.blackholed || upstream.write(d));
      upstream.on("data", (d) => pair.blackholed || client.write(d));
      const close = (): void => {
        if (pair.blackholed) return; // a black hole never tells anyone
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on("close", close);
      upstream.on("close", close);
      client.on("error", close);
      upstream.on("error", close);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
  }

  /** Silences every connection open now; returns how many there were. */
  blackholeExisting(): number {
    for (const pair of this.pairs) pair.blackholed = true;
    return this.pairs.size;
  }

  async stop(): Promise<void> {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
