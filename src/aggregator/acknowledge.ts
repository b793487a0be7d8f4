import type { DeadLetter, DeadLetterStore, ReadingMessage } from "./ports.js";

/** A message as a partition received it. */
export interface Received {
  readonly msg: ReadingMessage;
  /** The community whose stored state must hold this reading's effect before the ack. */
  readonly communityId?: string;
  readonly deadLetter?: DeadLetter;
}

/** A batch announced, waiting for the store that acknowledges it: `failed` names the communities whose aggregate could not be stored. */
export interface Announced {
  readonly batch: readonly Received[];
  readonly failed: ReadonlySet<string>;
}

/**
 * Settles the messages of `batches` once a store is done: a reading is acknowledged when the
 * state that holds it was stored (its community neither unannounced nor in `notStored`), a
 * malformed message once its dead letter is; anything else is handed back (nak) to come again
 * after `retryDelayMs` and be applied again, idempotently — everything, when `keep` is false (the
 * partition was lost). Resolves the dead letters stored.
 */
export async function acknowledge(
  batches: readonly Announced[],
  notStored: ReadonlySet<string>,
  deadLetters: DeadLetterStore,
  { keep, retryDelayMs }: { readonly keep: boolean; readonly retryDelayMs: number },
): Promise<DeadLetter[]> {
  const messages = batches.flatMap(({ batch, failed }) => batch.map((received) => ({ ...received, stored: !received.communityId || !(failed.has(received.communityId) || notStored.has(received.communityId)) })));
  const deadLettered = await Promise.all(messages.map(({ msg, deadLetter }) => (deadLetter ? deadLetters.store(msg, deadLetter) : true)));
  messages.forEach(({ msg, deadLetter, stored }, index) => {
    if (keep && (deadLetter ? deadLettered[index] : stored)) msg.ack();
    else msg.nak(retryDelayMs);
  });
  return messages.flatMap(({ deadLetter }, index) => (deadLetter && deadLettered[index] ? [deadLetter] : []));
}
