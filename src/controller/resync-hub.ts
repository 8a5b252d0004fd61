/**
 * Lets a provider ask the controller to reconcile every Service again (MetalLB's `ReprocessAll` verdict), for
 * example when its address pools change and Services that failed with "no pool" may now succeed. Created
 * before either side exists; the controller connects when it starts leading.
 */
export class ResyncHub {
  private listener: (() => void) | undefined;

  /** Called by the controller; returns the disconnect function. */
  connect(listener: () => void): () => void {
    this.listener = listener;
    return () => {
      if (this.listener === listener) this.listener = undefined;
    };
  }

  /** Called by a provider. Without a running controller there is nothing to resync: it will list on start. */
  request(): void {
    this.listener?.();
  }
}
