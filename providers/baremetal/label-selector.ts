/**
 * Kubernetes label selectors (metav1.LabelSelector) as AddressPool fields use them: `serviceAllocation.
 * namespaceSelectors` / `serviceSelectors` (after MetalLB's IPAddressPool) and `nodeSelectors` (after MetalLB's
 * L2Advertisement). Semantics of metav1.LabelSelectorAsSelector: every matchLabels pair and every
 * matchExpressions requirement must hold; an empty selector matches everything.
 */
import { z } from "zod";

const requirementSchema = z
  .strictObject({
    key: z.string().min(1).max(317),
    operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]),
    values: z.array(z.string().max(63)).max(256).optional(),
  })
  .superRefine((req, ctx) => {
    const count = req.values?.length ?? 0;
    const needsValues = req.operator === "In" || req.operator === "NotIn";
    // The apiserver's own rule (apimachinery labels.NewRequirement).
    if (needsValues && count === 0) ctx.addIssue({ code: "custom", message: `${req.operator} needs values` });
    if (!needsValues && count > 0) ctx.addIssue({ code: "custom", message: `${req.operator} takes no values` });
  });

export const labelSelectorSchema = z.strictObject({
  matchLabels: z.record(z.string().max(317), z.string().max(63)).optional(),
  matchExpressions: z.array(requirementSchema).max(64).optional(),
});

export type LabelSelector = z.infer<typeof labelSelectorSchema>;

export type Labels = Readonly<Record<string, string>>;

export function selectorMatches(selector: LabelSelector, labels: Labels): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, req.key);
    const value = labels[req.key];
    const listed = value !== undefined && (req.values ?? []).includes(value);
    const ok =
      req.operator === "In" ? listed : req.operator === "NotIn" ? !listed : req.operator === "Exists" ? has : !has;
    if (!ok) return false;
  }
  return true;
}

/** MetalLB's rule for a list of selectors (L2Advertisement nodeSelectors, serviceSelectors): any one matching is enough. */
export function anySelectorMatches(selectors: readonly LabelSelector[], labels: Labels): boolean {
  return selectors.some((s) => selectorMatches(s, labels));
}

/** `app=web,tier in (a,b)`, for messages. */
export function describeSelector(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const req of selector.matchExpressions ?? []) {
    if (req.operator === "Exists") parts.push(req.key);
    else if (req.operator === "DoesNotExist") parts.push(`!${req.key}`);
    else parts.push(`${req.key} ${req.operator === "In" ? "in" : "notin"} (${(req.values ?? []).join(",")})`);
  }
  return parts.length === 0 ? "(everything)" : parts.join(",");
}
