/**
 * List + watch of Services for the bench's observer and the baseline patcher: lists once (existing objects
 * come out as ADDED), watches from the list's resourceVersion with bookmarks, resumes from the last
 * resourceVersion when the stream ends, and relists on an ERROR event (410 Gone).
 */
import { type KubeHttp, type ServiceLike, type WatchHandle, listAll } from "./kube-http.js";

export type ServiceEventType = "ADDED" | "MODIFIED" | "DELETED";

export class ServiceWatch {
  private resourceVersion = "";
  private handle: WatchHandle | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;

  /** `collectionPath`: /api/v1/services or /api/v1/namespaces/<ns>/services. */
  constructor(
    private readonly http: KubeHttp,
    private readonly collectionPath: string,
    private readonly onService: (type: ServiceEventType, svc: ServiceLike) => void,
    private readonly onWarning: (message: string) => void = () => undefined,
  ) {}

  /** Resolves once the first watch is connected: every change after that is delivered. */
  async start(): Promise<void> {
    await this.relist();
    const first = this.open();
    await first.connected;
    this.loop = this.run(first.handle);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.handle?.stop();
    await this.loop;
  }

  private async relist(): Promise<void> {
    const { items, resourceVersion } = await listAll<ServiceLike>(this.http, this.collectionPath);
    this.resourceVersion = resourceVersion;
    for (const svc of items) this.onService("ADDED", svc);
  }

  private open(): { connected: Promise<void>; handle: WatchHandle } {
    const query = `watch=true&allowWatchBookmarks=true&timeoutSeconds=900&resourceVersion=${encodeURIComponent(this.resourceVersion)}`;
    let gone = false;
    const opened = this.http.watch(`${this.collectionPath}?${query}`, (event) => {
      const obj = event.object as ServiceLike;
      const rv = obj.metadata?.resourceVersion;
      if (event.type === "ERROR") {
        gone = true;
        this.onWarning(`watch ${this.collectionPath}: ${JSON.stringify(event.object).slice(0, 200)}; relisting`);
        opened.handle.stop();
        return;
      }
      if (rv) this.resourceVersion = rv;
      if (event.type !== "BOOKMARK") this.onService(event.type, obj);
    });
    this.handle = opened.handle;
    const ended = opened.handle.ended.then(async () => {
      if (gone && !this.stopped) await this.relist();
    });
    return { connected: opened.connected, handle: { ended, stop: () => opened.handle.stop() } };
  }

  private async run(first: WatchHandle): Promise<void> {
    let current = first;
    for (;;) {
      await current.ended.catch((err: unknown) => this.onWarning(`relist failed: ${String(err)}`));
      if (this.stopped) return;
      await new Promise((r) => setTimeout(r, 100));
      if (this.stopped) return;
      const next = this.open();
      try {
        await next.connected;
      } catch (err) {
        this.onWarning(`watch ${this.collectionPath} did not reconnect: ${String(err)}; retrying`);
      }
      current = next.handle;
    }
  }
}
