import { type Server, createServer } from "node:http";
import type { Registry } from "prom-client";

export interface HealthSource {
  /** Liveness: false only when the process should be restarted. */
  live(): boolean;
  /** Readiness: caches synced (leader) or standing by (follower). */
  ready(): boolean;
}

/** Serves /metrics (Prometheus text), /healthz and /readyz on one port. */
export function startHttpServer(options: {
  host: string;
  port: number;
  registry: Registry;
  health: HealthSource;
}): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/metrics") {
      options.registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { "Content-Type": options.registry.contentType });
          res.end(body);
        })
        .catch((err: unknown) => {
          res.writeHead(500).end(String(err));
        });
      return;
    }
    if (path === "/healthz" || path === "/livez") {
      const ok = options.health.live();
      res.writeHead(ok ? 200 : 503, { "Content-Type": "text/plain" }).end(ok ? "ok" : "unhealthy");
      return;
    }
    if (path === "/readyz") {
      const ok = options.health.ready();
      res.writeHead(ok ? 200 : 503, { "Content-Type": "text/plain" }).end(ok ? "ok" : "not ready");
      return;
    }
    res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
