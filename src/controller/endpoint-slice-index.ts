import type { V1EndpointSlice } from "@kubernetes/client-node";
import { SERVICE_NAME_LABEL } from "../model/annotations.js";

/** EndpointSlices by owning Service (`namespace/name` from the kubernetes.io/service-name label). */
export class EndpointSliceIndex {
  private readonly byService = new Map<string, Map<string, V1EndpointSlice>>();

  /** Returns the key of the Service the slice belongs to, or undefined for an unlabelled slice. */
  upsert(slice: V1EndpointSlice): string | undefined {
    const key = serviceKeyOf(slice);
    if (!key) return undefined;
    let slices = this.byService.get(key);
    if (!slices) {
      slices = new Map();
      this.byService.set(key, slices);
    }
    slices.set(slice.metadata?.name ?? "", slice);
    return key;
  }

  remove(slice: V1EndpointSlice): string | undefined {
    const key = serviceKeyOf(slice);
    if (!key) return undefined;
    const slices = this.byService.get(key);
    slices?.delete(slice.metadata?.name ?? "");
    if (slices?.size === 0) this.byService.delete(key);
    return key;
  }

  forService(namespace: string, name: string): V1EndpointSlice[] {
    return [...(this.byService.get(`${namespace}/${name}`)?.values() ?? [])];
  }
}

function serviceKeyOf(slice: V1EndpointSlice): string | undefined {
  const name = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  return name ? `${slice.metadata?.namespace ?? "default"}/${name}` : undefined;
}
