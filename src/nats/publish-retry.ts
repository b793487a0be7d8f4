/** Why a send of a reading was not acknowledged. */
export const PUBLISH_ERROR_KINDS = ["timeout", "disconnected", "noResponders", "rejected", "closed"] as const;
export type PublishErrorKind = (typeof PUBLISH_ERROR_KINDS)[number];

/** What to do with a reading whose send was not acknowledged. */
export type RetryStep = { readonly action: "send"; readonly atMs: number } | { readonly action: "fail" };

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly giveUpAfterMs: number;
  readonly backoffMs: number;
}

/**
 * After `attempts` sends since `firstSentMs`: a timeout is sent again at once (the wait was
 * the timeout), and so is a send lost to a disconnect (once reconnected); "no responders" and
 * a server-side (5xx) error ack after a backoff, as they pass (the stream is being restored,
 * storage is busy); an error ack for the message itself (4xx: too large, wrong expectations)
 * never succeeds, so it fails at once.
 */
export function nextStep(kind: Exclude<PublishErrorKind, "closed">, code: number, attempts: number, firstSentMs: number, nowMs: number, policy: RetryPolicy): RetryStep {
  if (kind === "rejected" && code < 500) return { action: "fail" };
  const atMs = kind === "timeout" || kind === "disconnected" ? nowMs : nowMs + policy.backoffMs * attempts;
  if (attempts >= policy.maxAttempts || atMs - firstSentMs >= policy.giveUpAfterMs) return { action: "fail" };
  return { action: "send", atMs };
}
