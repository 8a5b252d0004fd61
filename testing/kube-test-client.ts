import { CoreV1Api, type CoreV1Event, type KubeConfig, type V1Service } from "@kubernetes/client-node";

const statusOf = (err: unknown): number | undefined => (err as { code?: number }).code;

export interface KubeTestClientOptions {
  /** Labels put on every namespace createNamespace makes (the conformance CLI marks its own, say). */
  readonly namespaceLabels?: Readonly<Record<string, string>>;
}

/**
 * The few API calls tests and the conformance cases make, over the real API only (no informers), so they run
 * against any cluster a kubeconfig reaches. Kept to what they share; `core` is there for the rest.
 */
export class KubeTestClient {
  readonly core: CoreV1Api;
  private readonly namespaceLabels: Readonly<Record<string, string>> | undefined;

  constructor(kubeConfig: KubeConfig, options: KubeTestClientOptions = {}) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.namespaceLabels = options.namespaceLabels;
  }

  /** Creates `<prefix>-<random>` and returns its name. */
  async createNamespace(prefix: string): Promise<string> {
    const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
    const labels = this.namespaceLabels === undefined ? undefined : { ...this.namespaceLabels };
    await this.core.createNamespace({ body: { metadata: { name, labels } } });
    return name;
  }

  /**
   * Deletes the namespace's Services first and waits (up to `timeoutMs`) for them to go, so the controller under
   * test releases their load balancers and finalizers while it still can; then the data-path cases' backend Pods
   * (without waiting: nothing of ours holds them); then the namespace. A cluster without a namespace controller (a
   * bare apiserver) would otherwise keep the Services and their cloud resources, and a lab kubelet its pods.
   */
  async deleteNamespace(namespace: string, timeoutMs: number): Promise<void> {
    await this.core.deleteCollectionNamespacedService({ namespace }).catch((err: unknown) => {
      if (statusOf(err) !== 404) throw err;
    });
    const deadline = Date.now() + timeoutMs;
    while ((await this.core.listNamespacedService({ namespace })).items.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    // 403: a user who may not delete pods created none (only the data-path cases do); the namespace takes them.
    await this.core.deleteCollectionNamespacedPod({ namespace }).catch((err: unknown) => {
      const status = statusOf(err);
      if (status !== 404 && status !== 403) throw err;
    });
    await this.core.deleteNamespace({ name: namespace }).catch((err: unknown) => {
      if (statusOf(err) !== 404) throw err;
    });
  }

  /** The Service, or undefined when it does not exist. */
  async service(namespace: string, name: string): Promise<V1Service | undefined> {
    try {
      return await this.core.readNamespacedService({ name, namespace });
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /** Events about one Service, oldest first. */
  async events(namespace: string, name: string): Promise<CoreV1Event[]> {
    const list = await this.core.listNamespacedEvent({
      namespace,
      fieldSelector: `involvedObject.kind=Service,involvedObject.name=${name}`,
    });
    return list.items.sort((a, b) => time(a) - time(b));
  }

  /** Replaces the Service after applying `change` to the current object (retries on conflict). */
  async updateService(namespace: string, name: string, change: (svc: V1Service) => void): Promise<V1Service> {
    for (let attempt = 0; ; attempt++) {
      const svc = await this.core.readNamespacedService({ name, namespace });
      change(svc);
      try {
        return await this.core.replaceNamespacedService({ name, namespace, body: svc });
      } catch (err) {
        if (statusOf(err) !== 409 || attempt > 5) throw err;
      }
    }
  }
}

function time(e: CoreV1Event): number {
  return new Date(e.firstTimestamp ?? e.eventTime ?? 0).getTime();
}
