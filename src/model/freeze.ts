/**
 * Recursively freezes a plain object graph and returns it. The model freezes what it returns so a provider that
 * mutates its read-only LoadBalancerSpec fails loudly instead of corrupting the controller's hash of it; tests
 * freeze inputs to prove the model never writes to Kubernetes objects.
 */
export function deepFreeze<T>(value: T): T {
  freezeInto(value, new WeakSet<object>());
  return value;
}

function freezeInto(value: unknown, seen: WeakSet<object>): void {
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  Object.freeze(value);
  for (const key of Reflect.ownKeys(value)) {
    freezeInto((value as Record<PropertyKey, unknown>)[key], seen);
  }
}
